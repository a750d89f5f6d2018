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
raw = []
for el in ET.fromstring(data).iter():
    name = el.tag.rsplit('}', 1)[-1]
    raw.append({'name': name, 'text': el.text or '', 'attributes': dict(el.attrib)})
f = d.feed
print(json.dumps({
    'bozo': bool(d.bozo), 'bozoException': str(d.get('bozo_exception', '')), 'version': d.version,
    'feed': {'id': f.get('id'), 'title': f.get('title'), 'updated': f.get('updated'), 'links': links(f),
             'ttl': f.get('ttl'), 'language': f.get('language')},
    'entries': [entry(e) for e in d.entries],
    'raw': raw,
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
