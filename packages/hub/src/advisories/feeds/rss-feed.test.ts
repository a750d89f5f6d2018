import { describe, expect, it } from 'vitest';
import type { PublishedAdvisory } from '../model.js';
import { THREE_CX_ADVISORY } from '../test-advisories.js';
import { advisoryRssFeed } from './rss-feed.js';
import { parseFeed, rssRuleViolations, xmllint } from './test-feed-parsers.js';

const CONFIG = {
  publicUrl: 'https://hub.example',
  publisher: { name: 'Vendor PSIRT', namespace: 'https://psirt.vendor.example' },
};

describe('advisoryRssFeed', () => {
  it('has one item per advisory with a permanent non-permalink guid, the initial pubDate and the first pack enclosed', () => {
    const xml = advisoryRssFeed([THREE_CX_ADVISORY], CONFIG);
    expect(xmllint(xml)).toEqual({ status: 0, output: '' });
    const parsed = parseFeed(xml);
    expect(parsed.bozo, parsed.bozoException).toBe(false);
    expect(parsed.version).toBe('rss20');
    expect(rssRuleViolations(parsed.tree)).toEqual([]);
    expect(parsed.feed).toMatchObject({ ttl: '15', language: 'en' });
    expect(parsed.feed.links.find((l) => l.rel === 'self')?.href).toBe(
      'https://hub.example/advisories/feed.rss',
    );
    expect(parsed.entries).toHaveLength(1);
    const [item] = parsed.entries;
    expect(item).toMatchObject({
      id: 'tag:hub.example,2023-03-30:advisory/CSW-2023-0001',
      guidislink: false,
      title: '3CX Desktop App: trojanized builds for Windows and macOS',
      link: 'https://hub.example/advisories/csw-2023-0001',
      published: 'Thu, 30 Mar 2023 09:00:00 GMT',
      author: 'psirt@vendor.example',
      tags: ['critical', 'final', 'TLP:WHITE'],
    });
    expect(item?.enclosures).toEqual([
      { href: 'https://hub.example/feed/packs/3cx-2023-6.tar.gz', type: 'application/gzip', length: '48213' },
    ]);
    expect(item?.summary).toContain('Revision 3 (2023-04-11 16:30 UTC): CVE-2023-29059 assigned; final.');
    const channel = (name: string) => parsed.raw.find((e) => e.name === name)?.text;
    expect(channel('lastBuildDate')).toBe('Tue, 11 Apr 2023 16:30:00 GMT');
    expect(parsed.raw.filter((e) => e.name === 'enclosure')).toHaveLength(1);
  });

  it('encloses only the first of several packs (RSS items carry one enclosure)', () => {
    const first = THREE_CX_ADVISORY.packs[0] as PublishedAdvisory['packs'][0];
    const two = {
      ...THREE_CX_ADVISORY,
      packs: [first, { ...first, sequence: 7, archivePath: '/feed/packs/3cx-2023-7.tar.gz', archiveSize: 9 }],
    };
    const xml = advisoryRssFeed([two], CONFIG);
    expect(xmllint(xml).status).toBe(0);
    expect(parseFeed(xml).entries[0]?.enclosures.map((e) => e.href)).toEqual([
      'https://hub.example/feed/packs/3cx-2023-6.tar.gz',
    ]);
  });

  it('is a valid channel with no item when nothing is published', () => {
    const xml = advisoryRssFeed([], CONFIG);
    expect(xmllint(xml)).toEqual({ status: 0, output: '' });
    const parsed = parseFeed(xml);
    expect(parsed.bozo).toBe(false);
    expect(parsed.entries).toEqual([]);
    expect(rssRuleViolations(parsed.tree)).toEqual([]);
  });

  it('is checked by a rule test that does catch RSS 2.0 breaches', () => {
    const broken = parseFeed(`<?xml version="1.0"?>
<rss version="2.0"><channel><title>t</title><link>http://a/</link>
<item><link>http://a/1</link><pubDate>2023-03-30</pubDate><enclosure url="/x" type="application/gzip"/></item>
</channel></rss>`);
    expect(rssRuleViolations(broken.tree)).toEqual([
      'channel: 0 description',
      'item 0: neither title nor description',
      'item 0: pubDate 2023-03-30',
      'item 0: enclosure url /x',
      'item 0: enclosure length undefined',
    ]);
  });
});
