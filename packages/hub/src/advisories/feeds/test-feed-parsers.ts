/** @module Real parsers for the feed tests: Debian's python3-feedparser, its XML parser, and xmllint. */

import { spawnSync } from 'node:child_process';

/** The interpreter that has Debian's python3-feedparser (the `python3` on PATH may be another one). */
const PYTHON = '/usr/bin/python3';

const SCRIPT = `
import feedparser, json, sys
import xml.etree.ElementTree as ET
data = sys.stdin.buffer.read()
d = feedparser.parse(data)
def links(e):
    return [{k: l.get(k) for k in ('rel', 'type', 'href', 'length', 'title')} for l in e.get('links', [])]
def entry(e):
    return {
        'id': e.get('id'), 'title': e.get('title'), 'link': e.get('link'),
        'published': e.get('published'), 'updated': e.get('updated'),
        'summary': e.get('summary'), 'content': [c.get('value') for c in e.get('content', [])],
        'author': e.get('author'), 'contributors': [c.get('name') for c in e.get('contributors', [])],
        'links': links(e), 'enclosures': [dict(x) for x in e.get('enclosures', [])],
        'tags': [t.get('term') for t in e.get('tags', [])],
        'guidislink': e.get('guidislink'),
    }
def name_of(el):
    return el.tag.rsplit('}', 1)[-1]
def tree(el):
    return {'name': name_of(el), 'namespace': el.tag[1:].split('}')[0] if el.tag.startswith('{') else '',
            'text': el.text or '', 'attributes': dict(el.attrib), 'children': [tree(c) for c in el]}
root = ET.fromstring(data)
raw = [{'name': name_of(el), 'text': el.text or '', 'attributes': dict(el.attrib)} for el in root.iter()]
f = d.feed
print(json.dumps({
    'bozo': bool(d.bozo), 'bozoException': str(d.get('bozo_exception', '')), 'version': d.version,
    'feed': {'id': f.get('id'), 'title': f.get('title'), 'updated': f.get('updated'), 'links': links(f),
             'ttl': f.get('ttl'), 'language': f.get('language')},
    'entries': [entry(e) for e in d.entries],
    'raw': raw,
    'tree': tree(root),
}))
`;

/** One link as feedparser reports it. */
export interface ParsedLink {
  rel: string | null;
  type: string | null;
  href: string | null;
  length: string | null;
  title: string | null;
}

/** One entry (Atom) or item (RSS) as feedparser reports it. */
export interface ParsedEntry {
  id: string | null;
  title: string | null;
  link: string | null;
  published: string | null;
  updated: string | null;
  summary: string | null;
  content: string[];
  author: string | null;
  contributors: string[];
  links: ParsedLink[];
  enclosures: { href: string; type: string; length: string }[];
  tags: string[];
}

/** An element as a plain XML parser read it (text unescaped), with its children. */
export interface XmlElement {
  name: string;
  namespace: string;
  text: string;
  attributes: Record<string, string>;
  children: XmlElement[];
}

/** What feedparser made of a feed, and every element as a plain XML parser read it (text unescaped). */
export interface ParsedFeed {
  bozo: boolean;
  bozoException: string;
  version: string;
  feed: {
    id: string | null;
    title: string | null;
    updated: string | null;
    links: ParsedLink[];
    ttl: string | null;
  };
  entries: ParsedEntry[];
  raw: { name: string; text: string; attributes: Record<string, string> }[];
  /** The document element and everything in it. */
  tree: XmlElement;
}

/** Parses `xml` with feedparser and ElementTree (one process); throws when the script itself fails. */
export function parseFeed(xml: string): ParsedFeed {
  const run = spawnSync(PYTHON, ['-c', SCRIPT], {
    input: Buffer.from(xml, 'utf8'),
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`feedparser failed: ${run.stderr.toString()}`);
  return JSON.parse(run.stdout.toString('utf8')) as ParsedFeed;
}

/** What `xmllint --noout` says of `xml`: exit status and output (0 and empty when well-formed). */
export function xmllint(xml: string): { status: number | null; output: string } {
  const run = spawnSync('xmllint', ['--noout', '-'], { input: Buffer.from(xml, 'utf8') });
  return { status: run.status, output: `${run.stdout.toString()}${run.stderr.toString()}` };
}

const ATOM_NS = 'http://www.w3.org/2005/Atom';
const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const RFC_822 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const ABSOLUTE_IRI = /^[a-z][a-z0-9+.-]*:\S+$/i;
const LENGTH = /^(0|[1-9][0-9]*)$/;

/** The MUSTs of RFC 4287 an Atom feed document breaks (element counts, dates, links, ids), as messages. */
export function atomRuleViolations(feed: XmlElement): string[] {
  const problems: string[] = [];
  if (feed.name !== 'feed' || feed.namespace !== ATOM_NS) return [`root is ${feed.namespace}:${feed.name}`];
  const feedHasAuthor = checkContainer(feed, 'feed', problems, false);
  feed.children
    .filter((c) => c.name === 'entry')
    .forEach((entry, i) => {
      checkContainer(entry, `entry ${i}`, problems, feedHasAuthor);
    });
  return problems;
}

function checkContainer(
  element: XmlElement,
  where: string,
  problems: string[],
  inheritedAuthor: boolean,
): boolean {
  const named = (name: string) => element.children.filter((c) => c.name === name && c.namespace === ATOM_NS);
  for (const name of ['id', 'title', 'updated'])
    if (named(name).length !== 1)
      problems.push(`${where}: ${named(name).length} ${name} elements, must be 1`);
  for (const name of ['published', 'summary', 'content', 'subtitle', 'rights', 'generator', 'icon', 'logo'])
    if (named(name).length > 1) problems.push(`${where}: more than one ${name}`);
  const id = named('id')[0]?.text.trim() ?? '';
  if (!ABSOLUTE_IRI.test(id)) problems.push(`${where}: id ${JSON.stringify(id)} is not an absolute IRI`);
  for (const date of [...named('updated'), ...named('published')])
    if (!RFC_3339.test(date.text.trim()))
      problems.push(`${where}: ${date.name} ${date.text} is not RFC 3339`);
  for (const text of [...named('title'), ...named('summary'), ...named('subtitle'), ...named('rights')])
    if (!['text', 'html', 'xhtml'].includes(text.attributes.type ?? 'text'))
      problems.push(`${where}: ${text.name} type ${text.attributes.type}`);
  const authors = named('author');
  for (const person of [...authors, ...named('contributor')]) {
    const names = person.children.filter((c) => c.name === 'name').length;
    if (names !== 1) problems.push(`${where}: a ${person.name} with ${names} name elements`);
  }
  if (authors.length === 0 && !inheritedAuthor && where !== 'feed') problems.push(`${where}: no author`);
  const links = named('link');
  const alternates = new Set<string>();
  for (const link of links) {
    const { href, rel = 'alternate', type, length, hreflang } = link.attributes;
    if (!href) problems.push(`${where}: a link without href`);
    if (type !== undefined && !MEDIA_TYPE.test(type)) problems.push(`${where}: link type ${type}`);
    if (length !== undefined && !LENGTH.test(length)) problems.push(`${where}: link length ${length}`);
    if (rel === 'alternate') {
      const key = `${type ?? ''}|${hreflang ?? ''}`;
      if (alternates.has(key)) problems.push(`${where}: two alternate links of type ${type}`);
      alternates.add(key);
    }
  }
  for (const category of named('category'))
    if (!category.attributes.term) problems.push(`${where}: a category without term`);
  if (where !== 'feed') {
    const content = named('content')[0];
    if (!content && alternates.size === 0) problems.push(`${where}: no content and no alternate link`);
    const type = content?.attributes.type ?? 'text';
    const inlineText = ['text', 'html', 'xhtml'].includes(type) || /^text\/|[/+]xml$/.test(type);
    if (content && (content.attributes.src !== undefined || !inlineText) && named('summary').length === 0)
      problems.push(`${where}: content of type ${type} needs a summary`);
  }
  return authors.length > 0;
}

/** What an RSS 2.0 feed breaks of the spec's requirements (channel elements, items, enclosures, dates). */
export function rssRuleViolations(rss: XmlElement): string[] {
  const problems: string[] = [];
  if (rss.name !== 'rss' || rss.attributes.version !== '2.0')
    return [`root is ${rss.name} ${rss.attributes.version}`];
  const channels = rss.children.filter((c) => c.name === 'channel');
  if (channels.length !== 1) return [`${channels.length} channels`];
  const channel = channels[0] as XmlElement;
  const named = (parent: XmlElement, name: string) =>
    parent.children.filter((c) => c.name === name && !c.namespace);
  for (const name of ['title', 'link', 'description'])
    if (named(channel, name).length !== 1) problems.push(`channel: ${named(channel, name).length} ${name}`);
  for (const date of [...named(channel, 'pubDate'), ...named(channel, 'lastBuildDate')])
    if (!RFC_822.test(date.text)) problems.push(`channel: ${date.name} ${date.text}`);
  named(channel, 'item').forEach((item, i) => {
    if (!named(item, 'title').length && !named(item, 'description').length)
      problems.push(`item ${i}: neither title nor description`);
    for (const name of ['title', 'link', 'description', 'guid', 'pubDate', 'enclosure'])
      if (named(item, name).length > 1) problems.push(`item ${i}: more than one ${name}`);
    for (const date of named(item, 'pubDate'))
      if (!RFC_822.test(date.text)) problems.push(`item ${i}: pubDate ${date.text}`);
    for (const enclosure of named(item, 'enclosure')) {
      const { url, length, type } = enclosure.attributes;
      if (!url || !ABSOLUTE_IRI.test(url)) problems.push(`item ${i}: enclosure url ${url}`);
      if (!length || !LENGTH.test(length)) problems.push(`item ${i}: enclosure length ${length}`);
      if (!type || !MEDIA_TYPE.test(type)) problems.push(`item ${i}: enclosure type ${type}`);
    }
  });
  return problems;
}
