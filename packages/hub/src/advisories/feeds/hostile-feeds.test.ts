import { describe, expect, it } from 'vitest';
import type { AdvisoryContent, PublishedAdvisory } from '../model.js';
import { THREE_CX_ADVISORY } from '../test-advisories.js';
import { activeMarkupIn, XSS_PAYLOADS } from '../xss-corpus.js';
import { advisoryAtomFeed } from './atom-feed.js';
import { advisoryRssFeed } from './rss-feed.js';
import { atomRuleViolations, parseFeed, rssRuleViolations, xmllint } from './test-feed-parsers.js';
import { xmlSafe } from './xml.js';

/** Characters XML 1.0 forbids, a lone surrogate of each half, and the end of a CDATA section. */
const XML_HOSTILE = '\u0000\u0008\u000B\uFFFE\uFFFF\uD800x\uDC00]]>';

const CONFIG = {
  publicUrl: 'https://hub.example',
  publisher: { name: `Vendor ${XML_HOSTILE}<b>PSIRT</b>`, namespace: 'https://psirt.vendor.example' },
};

/** The 3CX advisory with `payload` (and XML_HOSTILE) in every text field staff or the store can fill. */
function hostileAdvisory(payload: string, index: number): PublishedAdvisory {
  const p = `${payload}${XML_HOSTILE}`;
  const base = THREE_CX_ADVISORY.revisions[0]?.content as AdvisoryContent;
  const content: AdvisoryContent = {
    ...base,
    title: p,
    summary: p,
    body: `${p}\n\n# ${p}\n\n- ${p}\n\n[${p}](${payload})\n\n\`${p}\``,
    products: [
      {
        ...(base.products[0] as AdvisoryContent['products'][0]),
        vendor: p,
        product: p,
        affected: [p],
        fixed: [p],
      },
    ],
    remediation: [p, `1. ${p}`],
    references: [
      { url: payload, summary: p },
      { url: `https://ok.example/${payload}`, summary: p },
    ],
    cves: [p],
  };
  const author = { id: 'a', name: p };
  return {
    ...THREE_CX_ADVISORY,
    id: `hostile-${index}`,
    trackingId: `CSW-2099-${index} ${p}`,
    slug: `csw-2099-${index}`,
    revisions: [
      { number: 1, at: THREE_CX_ADVISORY.initialReleaseDate, author, summary: p, content },
      {
        number: 2,
        at: THREE_CX_ADVISORY.currentReleaseDate,
        author: { id: 'b', name: `${p}2` },
        summary: p,
        content,
      },
    ],
    packs: [{ ...(THREE_CX_ADVISORY.packs[0] as PublishedAdvisory['packs'][0]), title: p }],
  };
}

const HOSTILE = XSS_PAYLOADS.map(hostileAdvisory);

describe.each([
  ['Atom', advisoryAtomFeed, 'content'],
  ['RSS', advisoryRssFeed, 'description'],
] as const)('the %s feed with hostile input in every field', (_, build, htmlElement) => {
  const xml = build(HOSTILE, CONFIG);

  it('stays well-formed for xmllint and feedparser, one entry per advisory', () => {
    expect(xmllint(xml)).toEqual({ status: 0, output: '' });
    const parsed = parseFeed(xml);
    expect(parsed.bozo, parsed.bozoException).toBe(false);
    expect(parsed.entries).toHaveLength(XSS_PAYLOADS.length);
    expect(
      htmlElement === 'content' ? atomRuleViolations(parsed.tree) : rssRuleViolations(parsed.tree),
    ).toEqual([]);
    expect(xmlSafe(xml)).toBe(xml);
    expect(xml.includes(']]>')).toBe(false);
  });

  it('holds HTML with no active markup, as we wrote it (XML unescaped, before any sanitiser)', () => {
    const parsed = parseFeed(xml);
    const html = parsed.raw.filter((e) => e.name === htmlElement && e.text.includes('<h3>'));
    expect(html).toHaveLength(XSS_PAYLOADS.length);
    for (const element of html) expect(activeMarkupIn(element.text)).toBeUndefined();
    // After feedparser's own sanitising too (in RSS the description is its summary; an Atom summary is text).
    for (const entry of parsed.entries)
      for (const text of htmlElement === 'content' ? entry.content : [entry.summary ?? ''])
        expect(activeMarkupIn(text)).toBeUndefined();
  });

  it('keeps every payload as literal text where the reader shows plain text', () => {
    const parsed = parseFeed(xml);
    const titles = parsed.raw.filter((e) => e.name === 'title').map((e) => e.text);
    for (const payload of XSS_PAYLOADS) expect(titles).toContain(`${payload.replace('\u0000', '')}x]]>`);
  });
});

it('shows a javascript: reference as text, and a reference with quotes and spaces as an escaped https link', () => {
  const [entry] = parseFeed(
    advisoryAtomFeed([hostileAdvisory('" onmouseover="alert(1)', 0)], CONFIG),
  ).raw.filter((e) => e.name === 'content');
  expect(entry?.text).toContain('<a href="https://ok.example/%22%20onmouseover=%22alert(1)');
  const [js] = parseFeed(advisoryAtomFeed([hostileAdvisory('javascript:alert(1)', 0)], CONFIG)).raw.filter(
    (e) => e.name === 'content',
  );
  expect(js?.text).not.toContain('href="javascript');
  expect(js?.text).toContain('(javascript:alert(1))');
});
