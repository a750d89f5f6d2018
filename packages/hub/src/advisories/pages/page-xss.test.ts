import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, type TestStore } from '../../testing/test-db.js';
import type { TestApp } from '../../testing/test-hub.js';
import { type AdvisoryContent, type PublishedAdvisory, slugOf } from '../model.js';
import { activeMarkupIn, XSS_PAYLOADS } from '../xss-corpus.js';
import { escapeHtml, html, link, markdownHtml, safeHref } from './html.js';
import { hrefsOf, pagesApp, withoutOwnHead, xmllintErrors } from './page-testing.js';

/** More hostile text: controls HTML forbids, lone surrogates, closing tags of raw-text elements, entities. */
const MORE_PAYLOADS = [
  '\u0001\u0008\u000B\u001F\u007F\u0085\uFFFE\uFFFF',
  '\uD800 lone \uDFFF surrogates',
  '</title><script>alert(1)</script>',
  '</textarea></noscript></xmp><script>alert(1)</script>',
  '&lt;script&gt; &amp; &#x3C;img&#x3E; &bogus',
  '` <img src=x onerror=alert(1)> `',
  '<a href="/&#x2F;evil.example">x</a>',
  '\\/evil.example',
];
const PAYLOADS = [...XSS_PAYLOADS, ...MORE_PAYLOADS];

/** An advisory with `p` in every text field of two revisions (the second one differs, so the diff shows both). */
function hostile(p: string, index: number): PublishedAdvisory {
  const trackingId = `CSW-XSS-${index}-${p}`;
  const content = (rev: number): AdvisoryContent => ({
    title: `${p} title ${rev}`,
    severity: rev === 1 ? (p as never) : 'high',
    tlp: 'WHITE',
    status: rev === 1 ? (p as never) : 'interim',
    summary: `${p} summary ${rev}`,
    body: [
      `# ${p}`,
      '',
      `${p} ${rev}`,
      '',
      `- ${p}`,
      `- [${p}](${p})`,
      `- [link](https://ok.example/${p})`,
      '',
      '```',
      p,
      '```',
      '',
      `\`${p}\``,
      '',
      `<${p}>`,
    ].join('\n'),
    products: [
      {
        packId: p,
        appId: `${p}-${rev}`,
        vendor: p,
        product: `${p} ${rev}`,
        platforms: [p],
        affected: [p, `${rev}`],
        fixed: [p],
      },
    ],
    remediation: [p, `${p} step ${rev}`, `[step](${p})`],
    packs: [{ packId: p, sequence: rev }],
    references: [
      { url: p, summary: p },
      { url: `https://ok.example/${p}`, summary: `${p} ${rev}` },
      { url: `/${p}`, summary: '' },
    ],
    cves: [p, `CVE-2023-${rev}${p}`],
  });
  return {
    id: `id-${index}`,
    trackingId,
    slug: slugOf(trackingId),
    initialReleaseDate: '2023-03-30T09:00:00.000Z',
    currentReleaseDate: '2023-04-01T09:00:00.000Z',
    revisions: [1, 2].map((number) => ({
      number,
      at: number === 1 ? p : '2023-04-01T09:00:00.000Z',
      author: { id: p, name: `${p} author` },
      summary: `${p} revision ${number}`,
      content: content(number),
    })),
    packs: [1, 2].map((sequence) => ({
      packId: p,
      sequence,
      title: `${p} pack`,
      archivePath: sequence === 1 ? p : `/feed/packs/${p}`,
      archiveSize: 1,
      archiveSha256: p,
      mediaType: p,
    })),
  };
}

describe('advisory pages with hostile input in every field', () => {
  let store: TestStore;
  let hub: TestApp;
  const advisories = PAYLOADS.map(hostile);

  beforeAll(async () => {
    store = await openTestStore('sqlite');
    hub = pagesApp(store.db, advisories);
  });
  afterAll(() => store.cleanup());

  /** Checks one page: served, no active markup outside its own head, no payload markup verbatim, well-formed. */
  async function expectInert(path: string, payload: string) {
    const res = await hub.app.request(path);
    const text = await res.text();
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    expect({ path, active: activeMarkupIn(withoutOwnHead(text)) }).toEqual({ path, active: undefined });
    if (payload.includes('<'))
      expect({ path, verbatim: text.includes(payload) }).toEqual({ path, verbatim: false });
    for (const href of hrefsOf(text))
      expect({ path, href }).toEqual({
        path,
        href: expect.stringMatching(/^(\/(?![/\\])|https?:\/\/)[^\s"'<>`]*$/),
      });
    expect({ path, errors: xmllintErrors(text) }).toEqual({ path, errors: [] });
  }

  it('keeps the list inert and well-formed', async () => {
    await expectInert('/advisories', PAYLOADS.join(''));
  });

  it.each(PAYLOADS.map((p, i) => [i, p] as const))(
    'keeps every page of payload %i inert: %j',
    async (i, p) => {
      const slug = (advisories[i] as PublishedAdvisory).slug;
      for (const path of [
        `/advisories/${slug}`,
        `/advisories/${slug}/revisions/1`,
        `/advisories/${slug}/diff?from=1&to=2`,
      ])
        await expectInert(path, p);
    },
  );
});

describe('html', () => {
  it('escapes every interpolated text, in text and in quoted attributes, and passes markup made here', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
    expect(escapeHtml('a\u0000b\u0007c\td\ne\uD800')).toBe('a\uFFFDb\uFFFDc\td\ne\uFFFD');
    expect(escapeHtml('emoji \u{1F600} stays')).toBe('emoji \u{1F600} stays');
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p title="${'"x"'}">${inner}${['<', html`<br>`, 1, undefined, false, null]}</p>`.markup).toBe(
      '<p title="&quot;x&quot;"><b>&lt;i&gt;</b>&lt;<br>1</p>',
    );
  });

  it('links only http(s) URLs and hub paths, percent-encoded; anything else stays text', () => {
    expect(safeHref('https://ok.example/a b"c<d>')).toBe('https://ok.example/a%20b%22c%3Cd%3E');
    expect(safeHref(' HTTP://OK.example ')).toBe('http://ok.example/');
    expect(safeHref('/feed/packs/x y.tar.gz?a="1"')).toBe('/feed/packs/x%20y.tar.gz?a=%221%22');
    for (const bad of [
      'javascript:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'data:text/html,x',
      'vbscript:x',
      '//evil.example/x',
      '/\\evil.example/x',
      '\\\\evil.example',
      'https://',
      'mailto:x@example.com',
      'x',
      '',
    ])
      expect({ bad, href: safeHref(bad) }).toEqual({ bad, href: undefined });
    expect(link('javascript:alert(1)', '<x>').markup).toBe('&lt;x&gt;');
    expect(link('/advisories', 'List').markup).toBe('<a href="/advisories">List</a>');
  });

  it('moves Markdown headings under the page heading, never above h6, and leaves text that looks like one', () => {
    expect(markdownHtml('## A\n\n### B\n\n###### F', 3).markup).toBe('<h3>A</h3>\n<h4>B</h4>\n<h6>F</h6>\n');
    expect(markdownHtml('#### Deep', 3).markup).toBe('<h4>Deep</h4>\n');
    expect(markdownHtml('`<h1>` text', 3).markup).toBe('<p><code>&lt;h1&gt;</code> text</p>\n');
  });

  it('leaves xmllint something to find in a broken page (the check can fail)', () => {
    expect(xmllintErrors('<!DOCTYPE html><html><body><p>&bogus <b>x</i></p></body></html>')).not.toEqual([]);
  });
});
