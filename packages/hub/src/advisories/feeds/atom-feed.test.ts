import { describe, expect, it } from 'vitest';
import type { PublishedAdvisory } from '../model.js';
import { AMBER_ADVISORY, THREE_CX_ADVISORY } from '../test-advisories.js';
import { EMPTY_FEED_UPDATED } from './advisory-entry.js';
import { advisoryAtomFeed } from './atom-feed.js';
import { advisoryRssFeed } from './rss-feed.js';
import { atomRuleViolations, parseFeed, xmllint } from './test-feed-parsers.js';

const CONFIG = {
  publicUrl: 'https://hub.example:8443',
  publisher: { name: 'Vendor PSIRT', namespace: 'https://psirt.vendor.example' },
};

/** The advisory as it stood after revision `n` was published. */
function atRevision(advisory: PublishedAdvisory, n: number): PublishedAdvisory {
  const revisions = advisory.revisions.slice(0, n);
  return { ...advisory, revisions, currentReleaseDate: revisions.at(-1)?.at ?? advisory.initialReleaseDate };
}

describe('advisoryAtomFeed', () => {
  it('has one entry per advisory after a publish and two revisions, with the latest updated and the first published', () => {
    const xml = advisoryAtomFeed([THREE_CX_ADVISORY], CONFIG);
    expect(xmllint(xml)).toEqual({ status: 0, output: '' });
    const parsed = parseFeed(xml);
    expect(parsed.bozo, parsed.bozoException).toBe(false);
    expect(parsed.version).toBe('atom10');
    expect(atomRuleViolations(parsed.tree)).toEqual([]);
    expect(parsed.entries).toHaveLength(1);
    const [entry] = parsed.entries;
    expect(entry).toMatchObject({
      id: 'tag:hub.example,2023-03-30:advisory/CSW-2023-0001',
      title: '3CX Desktop App: trojanized builds for Windows and macOS',
      updated: THREE_CX_ADVISORY.currentReleaseDate,
      published: THREE_CX_ADVISORY.initialReleaseDate,
      summary: THREE_CX_ADVISORY.revisions[2]?.content.summary,
      author: 'psirt@vendor.example',
      link: 'https://hub.example:8443/advisories/csw-2023-0001',
      tags: ['critical', 'final', 'TLP:WHITE'],
    });
    expect(entry?.enclosures).toEqual([
      {
        href: 'https://hub.example:8443/feed/packs/3cx-2023-6.tar.gz',
        type: 'application/gzip',
        length: '48213',
        title: '3CX DesktopApp supply-chain compromise (March 2023) (#6)',
      },
    ]);
    expect(entry?.links.find((l) => l.rel === 'related')).toEqual({
      rel: 'related',
      type: 'application/json',
      href: 'https://hub.example:8443/.well-known/csaf/white/2023/csw-2023-0001.json',
      length: null,
      title: 'CSAF CSW-2023-0001 revision 3',
    });
    expect(entry?.links.find((l) => l.rel === 'alternate')?.type).toBe('text/html');
    const html = entry?.content[0] ?? '';
    expect(html).toContain('<strong>signed</strong>');
    expect(html).toContain('Revision 3 (2023-04-11 16:30 UTC): CVE-2023-29059 assigned; final.');
    expect(html).toContain('Revision 1 (2023-03-30 09:00 UTC): Initial release.');
    expect(html).toContain('<ol><li><p>Uninstall the desktop app');
    expect(parsed.feed).toMatchObject({
      id: 'https://hub.example:8443/advisories/feed.atom',
      updated: THREE_CX_ADVISORY.currentReleaseDate,
    });
    expect(parsed.feed.links.find((l) => l.rel === 'self')?.href).toBe(
      'https://hub.example:8443/advisories/feed.atom',
    );
  });

  it('keeps the entry id and published time from revision 1 to revision 3, and moves updated', () => {
    const first = parseFeed(advisoryAtomFeed([atRevision(THREE_CX_ADVISORY, 1)], CONFIG)).entries[0];
    const third = parseFeed(advisoryAtomFeed([THREE_CX_ADVISORY], CONFIG)).entries[0];
    expect(first?.id).toBe(third?.id);
    expect(first?.published).toBe(third?.published);
    expect(first?.updated).toBe('2023-03-30T09:00:00.000Z');
    expect(third?.updated).toBe('2023-04-11T16:30:00.000Z');
    expect(first?.title).toBe('3CX Desktop App: trojanized builds for Windows');
    const rssFirst = parseFeed(advisoryRssFeed([atRevision(THREE_CX_ADVISORY, 1)], CONFIG)).entries[0];
    expect(rssFirst?.id).toBe(third?.id);
  });

  it('links the CSAF document under the TLP label of the current revision, and names later authors as contributors', () => {
    const editor = { id: 'e', name: 'editor@vendor.example' };
    const revised: PublishedAdvisory = {
      ...AMBER_ADVISORY,
      revisions: [
        ...AMBER_ADVISORY.revisions,
        { ...(AMBER_ADVISORY.revisions[0] as PublishedAdvisory['revisions'][0]), number: 2, author: editor },
      ],
    };
    const parsed = parseFeed(advisoryAtomFeed([revised, THREE_CX_ADVISORY], CONFIG));
    expect(atomRuleViolations(parsed.tree)).toEqual([]);
    const [entry] = parsed.entries;
    expect(entry?.links.find((l) => l.rel === 'related')?.href).toBe(
      'https://hub.example:8443/.well-known/csaf/amber/2024/csw-2024-0001.json',
    );
    expect(entry?.enclosures).toEqual([]);
    expect(entry?.contributors).toEqual(['editor@vendor.example']);
  });

  it('is a valid empty feed with a fixed updated time when nothing is published', () => {
    const xml = advisoryAtomFeed([], CONFIG);
    expect(xml).toBe(advisoryAtomFeed([], CONFIG));
    expect(xmllint(xml)).toEqual({ status: 0, output: '' });
    const parsed = parseFeed(xml);
    expect(parsed.bozo).toBe(false);
    expect(parsed.entries).toEqual([]);
    expect(atomRuleViolations(parsed.tree)).toEqual([]);
    expect(parsed.feed.updated).toBe(EMPTY_FEED_UPDATED);
  });

  it('makes a tag id from an IP-literal public URL', () => {
    const [entry] = parseFeed(
      advisoryAtomFeed([THREE_CX_ADVISORY], { ...CONFIG, publicUrl: 'http://[::1]:8080' }),
    ).entries;
    expect(entry?.id).toBe('tag:--1,2023-03-30:advisory/CSW-2023-0001');
  });

  it('is checked by a rule test that does catch RFC 4287 breaches', () => {
    const broken = parseFeed(`<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>t</title><updated>2023-03-30</updated>
<entry><id>urn:a</id><title>a</title><title>b</title><updated>2023-03-30T09:00:00Z</updated>
<link rel="enclosure" type="gzip" length="12kB" href="http://a/x"/><summary>s</summary></entry></feed>`);
    expect(atomRuleViolations(broken.tree)).toEqual([
      'feed: id "x" is not an absolute IRI',
      'feed: updated 2023-03-30 is not RFC 3339',
      'entry 0: 2 title elements, must be 1',
      'entry 0: no author',
      'entry 0: link type gzip',
      'entry 0: link length 12kB',
      'entry 0: no content and no alternate link',
    ]);
  });
});
