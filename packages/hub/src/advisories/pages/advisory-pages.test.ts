import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHubConfig } from '../../config.js';
import { openTestStore, type TestStore } from '../../testing/test-db.js';
import type { TestApp } from '../../testing/test-hub.js';
import type { PublishedAdvisory } from '../model.js';
import { AMBER_ADVISORY, FIRST_CONTENT, listedAdvisories, THREE_CX_ADVISORY } from '../test-advisories.js';
import { advisoryPageRoutes } from './advisory-page-routes.js';
import { hrefsOf, pagesApp, sectionOf, xmllintErrors } from './page-testing.js';
import { PAGES_CSS_HREF } from './pages-css.js';

const PAGE = '/advisories/csw-2023-0001';

describe('advisory pages', () => {
  let store: TestStore;
  let hub: TestApp;
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await hub.app.request(path, { headers });
    return { res, text: await res.text() };
  };

  beforeAll(async () => {
    store = await openTestStore('sqlite');
    hub = pagesApp(store.db, [THREE_CX_ADVISORY, AMBER_ADVISORY]);
  });
  afterAll(() => store.cleanup());

  it('lists the readable advisories with their facts, and links the feeds in the head and the page', async () => {
    const { res, text } = await get('/advisories');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(text).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    expect(text).toContain(
      '<link rel="alternate" type="application/atom+xml" title="Security advisories (Atom)" href="/advisories/feed.atom">',
    );
    expect(text).toContain(
      '<link rel="alternate" type="application/rss+xml" title="Security advisories (RSS)" href="/advisories/feed.rss">',
    );
    expect(text).toContain('<a href="/advisories/feed.atom">Atom feed</a>');
    expect(text).toContain('<a href="/advisories/feed.rss">RSS feed</a>');
    const row = text.slice(text.indexOf('<tbody>'), text.indexOf('</tbody>'));
    expect(row).toContain(
      '<a href="/advisories/csw-2023-0001">3CX Desktop App: trojanized builds for Windows and macOS</a>',
    );
    for (const fact of [
      'CSW-2023-0001',
      'severity-critical">critical<',
      '<td>final</td>',
      'TLP:WHITE',
      '<time datetime="2023-03-30T09:00:00.000Z">2023-03-30 09:00 UTC</time>',
      '<time datetime="2023-04-11T16:30:00.000Z">2023-04-11 16:30 UTC</time>',
    ])
      expect(row).toContain(fact);
    expect(text).not.toContain('Customer-only notice');
    expect(xmllintErrors(text)).toEqual([]);
  });

  it('shows the current revision: facts, Markdown body, products, steps, packs, references, CSAF and history', async () => {
    const { res, text } = await get(PAGE);
    expect(res.status).toBe(200);
    expect(text).toContain('<h1>3CX Desktop App: trojanized builds for Windows and macOS</h1>');
    expect(text).toContain('This is the current revision (revision 3 of 3)');
    expect(text).toContain('<a href="https://www.cve.org/CVERecord?id=CVE-2023-29059">CVE-2023-29059</a>');
    expect(text).toContain('<strong>final</strong>');
    expect(text).toContain(`<p class="summary">${FIRST_CONTENT.summary}</p>`);
    const details = sectionOf(text, 'details');
    expect(details).toContain('<h3>What happened</h3>');
    expect(details).toContain('<strong>signed</strong>');
    expect(details).toContain(
      '<a href="https://www.cisa.gov/news-events/alerts/2023/03/30/supply-chain-attack-against-3cxdesktopapp">CISA</a>',
    );
    const products = sectionOf(text, 'products');
    expect(products).toContain('<th scope="col">Affected versions</th>');
    expect(products.match(/<th scope="row">3CX Desktop App<\/th>/g)).toHaveLength(2);
    expect(products).toContain('<td>macos</td>');
    expect(products).toContain('<code>18.11.1213</code>');
    expect(products).toContain('<td><code>18.12.422</code>, <code>18.12.425</code></td>');
    const steps = sectionOf(text, 'remediation');
    expect(steps).toContain('<ol>');
    expect(steps).toContain(
      '<li><p>Uninstall the desktop app: <code>chainsweep remediate --apply</code>.</p>',
    );
    const packs = sectionOf(text, 'packs');
    expect(packs).toContain('<a href="/feed/packs/3cx-2023-6.tar.gz">archive</a>');
    expect(packs).toContain('<td>48213 bytes</td>');
    expect(packs).toContain('a'.repeat(64));
    expect(packs).toContain('3CX DesktopApp supply-chain compromise (March 2023)');
    expect(sectionOf(text, 'references')).toContain(
      '<a href="https://www.3cx.com/blog/news/desktopapp-security-alert-updates/">The vendor&#39;s incident updates</a>',
    );
    const csaf = '/.well-known/csaf/white/2023/csw-2023-0001.json';
    for (const suffix of ['', '.sha256', '.sha512', '.asc'])
      expect(hrefsOf(sectionOf(text, 'documents'))).toContain(`${csaf}${suffix}`);
    const history = sectionOf(text, 'history');
    expect(history.match(/<tr>/g)).toHaveLength(4);
    expect(history).toContain('<a href="/advisories/csw-2023-0001/revisions/1">Revision 1</a>');
    expect(history).toContain('<a href="/advisories/csw-2023-0001/revisions/2">Revision 2</a>');
    expect(history).toContain('Revision 3 (current)');
    expect(history).toContain('<a href="/advisories/csw-2023-0001/diff?from=1&amp;to=2">changes from 1</a>');
    expect(history).toContain('<a href="/advisories/csw-2023-0001/diff?from=2&amp;to=3">changes from 2</a>');
    expect(history).toContain('macOS builds affected too.');
    expect(history).toContain('psirt@vendor.example');
    expect(history).toContain('<time datetime="2023-03-31T18:00:00.000Z">');
    expect(xmllintErrors(text)).toEqual([]);
  });

  it('shows an earlier revision as it was, labelled, with a link to the current one', async () => {
    const { res, text } = await get(`${PAGE}/revisions/1`);
    expect(res.status).toBe(200);
    expect(text).toContain('<title>3CX Desktop App: trojanized builds for Windows (revision 1 of 3)');
    expect(text).toContain('<strong>You are reading revision 1 of 3</strong>');
    expect(text).toContain(`<a href="${PAGE}">Read the current revision</a>`);
    expect(text).toContain('<dt>CVE</dt><dd><span class="muted">none assigned yet</span></dd>');
    expect(text).toContain('<strong>interim</strong>');
    expect(sectionOf(text, 'products')).not.toContain('macos');
    expect(sectionOf(text, 'history')).toContain(
      '<strong>Revision 1</strong> <span class="muted">(this page)</span>',
    );
    expect(xmllintErrors(text)).toEqual([]);
  });

  it('diffs revision 1 to 2: the title changed and the macOS product was added, nothing else', async () => {
    const { res, text } = await get(`${PAGE}/diff?from=1&to=2`);
    expect(res.status).toBe(200);
    expect(text).toContain('<strong>Changed: Title, Affected products.</strong>');
    const title = sectionOf(text, 'field-title');
    expect(title).toContain('(changed)');
    expect(title).toContain(
      '<del><span class="mark">-</span> 3CX Desktop App: trojanized builds for Windows</del>',
    );
    expect(title).toContain(
      '<ins><span class="mark">+</span> 3CX Desktop App: trojanized builds for Windows and macOS</ins>',
    );
    const products = sectionOf(text, 'field-affected-products');
    expect(products.match(/<ins>/g)).toHaveLength(1);
    expect(products).not.toContain('<del>');
    expect(products).toContain(
      '<ins><span class="mark">+</span> 3CX Ltd 3CX Desktop App (macos): affected 18.11.1213, 18.12.402, 18.12.407, 18.12.416; fixed 18.12.422</ins>',
    );
    for (const unchanged of ['field-status', 'field-severity', 'field-cve', 'field-tlp', 'field-details'])
      expect(sectionOf(text, unchanged)).toContain('(unchanged)');
    expect(sectionOf(text, 'revisions')).toContain('macOS builds affected too.');
    expect(xmllintErrors(text)).toEqual([]);
  });

  it('diffs revision 2 to 3: status interim to final and the CVE assigned', async () => {
    const { text } = await get(`${PAGE}/diff?from=2&to=3`);
    expect(text).toContain('<strong>Changed: Status, CVE.</strong>');
    const status = sectionOf(text, 'field-status');
    expect(status).toContain('<del><span class="mark">-</span> interim</del>');
    expect(status).toContain('<ins><span class="mark">+</span> final</ins>');
    expect(sectionOf(text, 'field-cve')).toContain('<ins><span class="mark">+</span> CVE-2023-29059</ins>');
    expect(sectionOf(text, 'field-title')).toContain('(unchanged)');
    expect(xmllintErrors(text)).toEqual([]);
  });

  it('diffs the body line by line, with both line numbers and - and + marks', async () => {
    const edited: PublishedAdvisory = {
      ...THREE_CX_ADVISORY,
      revisions: [
        THREE_CX_ADVISORY.revisions[0] as PublishedAdvisory['revisions'][number],
        {
          ...(THREE_CX_ADVISORY.revisions[1] as PublishedAdvisory['revisions'][number]),
          content: {
            ...FIRST_CONTENT,
            body: FIRST_CONTENT.body.replace('shipped **signed**', 'shipped **signed** by 3CX'),
          },
        },
      ],
    };
    const own = pagesApp(store.db, [edited]);
    const text = await (await own.app.request(`${PAGE}/diff?from=1&to=2`)).text();
    const body = sectionOf(text, 'field-details');
    expect(body).toContain(
      '<tr><td class="num">3</td><td class="num"></td><td class="text"><del><span class="mark">-</span> The Electron desktop app was trojanized in the build pipeline and shipped **signed**.</del></td></tr>',
    );
    expect(body).toContain(
      '<tr><td class="num"></td><td class="num">3</td><td class="text"><ins><span class="mark">+</span> The Electron desktop app was trojanized in the build pipeline and shipped **signed** by 3CX.</ins></td></tr>',
    );
    expect(body).toContain('<td class="num">1</td><td class="num">1</td>');
    expect(xmllintErrors(text)).toEqual([]);
  });

  it('says so when two revisions are the same, and answers HEAD like GET without a body', async () => {
    const base = THREE_CX_ADVISORY.revisions[0] as PublishedAdvisory['revisions'][number];
    const same: PublishedAdvisory = { ...THREE_CX_ADVISORY, revisions: [base, { ...base, number: 2 }] };
    const own = pagesApp(store.db, [same]);
    const text = await (await own.app.request(`${PAGE}/diff?from=1&to=2`)).text();
    expect(text).toContain('<strong>Nothing changed.</strong>');
    expect(text).not.toMatch(/<(ins|del)><span class="mark">[-+]<\/span> (?!like this)/);
    expect(text).toContain('The text is the same in both revisions.');
    const head = await hub.app.request(PAGE, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await head.text()).toBe('');
  });

  it('diffs a 20,000-line body with thousands of edits quickly', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `Line ${i} of the timeline.`);
    const before = lines.join('\n');
    const after = lines.map((l, i) => (i % 5 === 0 ? `${l} Updated.` : l)).join('\n');
    const base = THREE_CX_ADVISORY.revisions[0] as PublishedAdvisory['revisions'][number];
    const long: PublishedAdvisory = {
      ...THREE_CX_ADVISORY,
      revisions: [
        { ...base, content: { ...base.content, body: before } },
        { ...base, number: 2, content: { ...base.content, body: after } },
      ],
    };
    const own = pagesApp(store.db, [long]);
    const started = performance.now();
    const res = await own.app.request(`${PAGE}/diff?from=1&to=2`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(5000);
    const body = sectionOf(text, 'field-details');
    expect(body.match(/<ins>/g)).toHaveLength(4000);
    expect(body.match(/<del>/g)).toHaveLength(4000);
  });

  it('answers a bad from or to with 400 naming the field, an unknown advisory or revision with 404', async () => {
    const cases: [string, number, string | undefined][] = [
      [`${PAGE}/diff?to=2`, 400, 'from'],
      [`${PAGE}/diff?from=1`, 400, 'to'],
      [`${PAGE}/diff?from=&to=2`, 400, 'from'],
      [`${PAGE}/diff?from=one&to=2`, 400, 'from'],
      [`${PAGE}/diff?from=1&to=2.5`, 400, 'to'],
      [`${PAGE}/diff?from=0&to=2`, 400, 'from'],
      [`${PAGE}/diff?from=-1&to=2`, 400, 'from'],
      [`${PAGE}/diff?from=1&to=1e3`, 400, 'to'],
      [`${PAGE}/diff?from=1&to=99999999999999999999`, 400, 'to'],
      [`${PAGE}/diff?from=1&to=4`, 400, 'to'],
      [`${PAGE}/diff?from=4&to=5`, 400, 'from'],
      [`${PAGE}/diff?from=2&to=2`, 400, 'to'],
      [`${PAGE}/diff?from=3&to=1`, 400, 'to'],
      ['/advisories/csw-2099-0001/diff?from=1&to=2', 404, undefined],
      [`${PAGE}/revisions/4`, 404, undefined],
      [`${PAGE}/revisions/0`, 404, undefined],
      [`${PAGE}/revisions/01`, 404, undefined],
      [`${PAGE}/revisions/99999999999999999999`, 404, undefined],
      ['/advisories/csw-2099-0001', 404, undefined],
      [`/advisories/${'a'.repeat(100_000)}`, 404, undefined],
    ];
    for (const [path, status, field] of cases) {
      const { res, text } = await get(path);
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const error = JSON.parse(text).error;
      expect({ path, field: error.field }).toEqual({ path, field });
      expect(error.message).not.toMatch(/\n|at .*\.ts/);
    }
  });

  it('never takes the feed paths another module serves, nor paths its patterns refuse', async () => {
    const routes = advisoryPageRoutes(
      { db: store.db, config: defaultHubConfig('/nonexistent'), now: () => new Date() },
      listedAdvisories([THREE_CX_ADVISORY]),
    ).routes;
    for (const path of [
      '/advisories/feed.atom',
      '/advisories/feed.rss',
      '/advisories/csw-2023-0001.json',
      '/advisories/..%2f..%2fetc',
      '/advisories/csw-2023-0001/revisions/one',
      '/advisories/csw-2023-0001/revisions/-1',
      '/advisories/',
    ])
      expect({ path, status: (await routes.request(path)).status }).toEqual({ path, status: 404 });
    expect((await routes.request(PAGE)).status).toBe(200);
  });

  it('redirects another spelling of the slug to the canonical path', async () => {
    const res = await hub.app.request('/advisories/CSW-2023-0001/diff?from=1&to=2');
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/advisories/csw-2023-0001/diff?from=1&to=2');
    expect((await hub.app.request('/advisories/CSW-2023-0001')).headers.get('location')).toBe(PAGE);
  });

  it('serves its stylesheet (cacheable, 304 on its ETag) and links it; no inline style or script anywhere', async () => {
    const css = await hub.app.request(PAGES_CSS_HREF);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('public, max-age=86400');
    const text = await css.text();
    expect(text).toContain('@media (prefers-color-scheme: dark)');
    expect(text).not.toMatch(/url\(|@import|https?:/);
    const etag = css.headers.get('etag') as string;
    const again = await hub.app.request(PAGES_CSS_HREF, { headers: { 'if-none-match': `W/${etag}` } });
    expect(again.status).toBe(304);
    for (const path of ['/advisories', PAGE, `${PAGE}/revisions/2`, `${PAGE}/diff?from=1&to=3`]) {
      const { res, text: page } = await get(path);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(page).toContain(`<link rel="stylesheet" href="${PAGES_CSS_HREF}">`);
      expect(page).not.toMatch(/\sstyle=|<style|<script|\son[a-z]+=/i);
      for (const href of hrefsOf(page)) expect(href).toMatch(/^(\/(?![/\\])|https:\/\/)/);
      expect(page).toContain('<main>');
      expect(page).toContain('<nav aria-label="Site">');
    }
  });
});
