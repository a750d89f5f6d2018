import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, type Dialect, openTestStore, type TestStore } from '../../testing/test-db.js';
import { type SeededOrg, seedOrg, type TestApp, testApp } from '../../testing/test-hub.js';
import { searchForum } from './forum-store.js';
import { MAX_QUERY_TERMS, queryTerms, searchTextOf } from './search-terms.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests read response JSON by path
type Json = Record<string, any>;
type Reader = 'acme' | 'other';

/**
 * One post of the corpus. `thread` names the opening post of the thread a reply goes to; an opening post has a
 * title. `org` makes the thread private to that organisation; `hidden` has staff hide the post (an opening post
 * hides its whole thread).
 */
interface CorpusEntry {
  label: string;
  title?: string;
  body: string;
  thread?: string;
  org?: Reader;
  author?: Reader;
  hidden?: boolean;
}

const DUPLICATE = 'Duplicate notice: uninstall the 3CX desktop app before the next sweep.';

/** Posts that tokenisers disagree on when each is left to its own parser, and posts no customer may find. */
const CORPUS: CorpusEntry[] = [
  {
    label: 'dll',
    title: 'DLL sideloading in 3CXDesktopApp',
    body: 'ffmpeg.dll was replaced; d3dcompiler_47.dll too',
  },
  { label: 'dll-reply', thread: 'dll', body: 'Our copy of FFMPEG.DLL had a different SHA-256 hash.' },
  { label: 'dylib', thread: 'dll', body: 'On macOS it is libffmpeg.dylib inside 3CX Desktop App.app' },
  {
    label: 'version',
    title: 'Is 18.12.416 affected?',
    body: 'Builds 18.12.407 and 18.12.416 are; 18.11.1213 too.',
  },
  {
    label: 'v-version',
    thread: 'version',
    body: 'The installer says v18.12.416 (build 3CXDesktopApp-18.12.416.msi).',
  },
  {
    label: 'hyphen',
    title: 'Supply-chain attack',
    body: 'A supply-chain compromise, self-signed e-mail x-ray',
  },
  { label: 'hyphen-words', thread: 'hyphen', body: 'the supply chain of the self service signed mail' },
  { label: 'quotes', title: 'Quotes', body: "He said \"uninstall now\" and 'reboot'; it's `beacon` «done»" },
  {
    label: 'operators',
    title: 'FTS operators',
    body: 'NEAR OR AND NOT * - : ^ "near" or not and -near +and',
  },
  { label: 'column', thread: 'operators', body: 'search_text: body: title:' },
  { label: 'cafe-nfc', title: 'Café résumé', body: 'naïve Zoë façade über Straße' },
  { label: 'cafe-nfd', thread: 'cafe-nfc', body: 'Cafe\u0301 re\u0301sume\u0301 nai\u0308ve' },
  { label: 'cafe-plain', thread: 'cafe-nfc', body: 'cafe resume naive zoe facade uber strasse cafes' },
  { label: 'case', title: 'SmoothOperator', body: 'SMOOTHOPERATOR smoothoperator sMoOtHoPeRaToR' },
  { label: 'greek', thread: 'case', body: 'ΣΊΣΥΦΟΣ Σίσυφος İstanbul DŽUNGLA ǅungla' },
  { label: 'numbers', title: 'Numbers', body: '1e5 0x1F 007 ½ ² Ⅻ ١٢٣ १२३ 3,14 10.0.0.1 2023-03-29' },
  { label: 'cjk', thread: 'numbers', body: '供应链攻击 3CX 攻击 サプライチェーン 공급망' },
  { label: 'emoji', thread: 'numbers', body: 'beacon🙂dll ok👍 zero\u200bwidth soft\u00adhyphen' },
  { label: 'fullwidth', thread: 'numbers', body: 'ＦＦＭＰＥＧ．ＤＬＬ ｕｎｉｎｓｔａｌｌ' },
  { label: 'newer-letters', thread: 'numbers', body: 'ꭰꭱꭲ ᏸᏹ 𞤀𞤁 Ა' },
  { label: 'long-word', title: 'Long', body: `${'x'.repeat(80)} ${'y'.repeat(64)}z tail` },
  {
    label: 'markdown',
    title: 'Markdown',
    body: '**uninstall** `ffmpeg.dll` [beacon](https://example.com/3cx) # heading',
  },
  { label: 'html', thread: 'markdown', body: '<script>alert("beacon")</script> &amp; &lt;uninstall&gt;' },
  {
    label: 'many',
    title: 'Many words',
    body: 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau',
  },
  { label: 'beacon-5', title: 'Beacon', body: 'beacon beacon beacon beacon beacon' },
  {
    label: 'beacon-1',
    thread: 'beacon-5',
    body: 'one beacon among many other words about the fleet, hosts, agents, packs, signatures and the hub',
  },
  ...Array.from({ length: 6 }, (_, i) => ({ label: `dup-${i}`, thread: 'beacon-5', body: DUPLICATE })),
  { label: 'acme-private', title: 'Acme private', body: 'acme only ffmpeg.dll beacon', org: 'acme' as const },
  {
    label: 'other-private',
    title: 'Other private ffmpeg.dll 18.12.416 supply-chain café smoothoperator',
    body: 'other only beacon uninstall NEAR OR 3CX duplicate notice near not and',
    org: 'other' as const,
    author: 'other' as const,
  },
  {
    label: 'hidden-reply',
    thread: 'dll',
    body: 'hidden ffmpeg.dll 18.12.416 supply-chain café smoothoperator beacon uninstall duplicate notice',
    hidden: true,
  },
  {
    label: 'hidden-thread',
    title: 'Hidden thread ffmpeg.dll',
    body: 'hidden 18.12.416 supply-chain café smoothoperator beacon uninstall near or not',
    hidden: true,
  },
  {
    label: 'hidden-thread-reply',
    thread: 'hidden-thread',
    body: 'reply in a hidden thread: beacon ffmpeg.dll',
  },
];

/** Queries: plain, tricky (case, diacritics, punctuation, versions, file names) and hostile to FTS5 or tsquery. */
const QUERIES = [
  'ffmpeg.dll',
  'FFMPEG.DLL',
  'ffmpeg',
  'dll',
  'd3dcompiler_47.dll',
  'libffmpeg',
  '3cx',
  '3CXDesktopApp',
  '18.12.416',
  '18.12',
  '18',
  'v18',
  'supply-chain',
  'supply chain',
  'chain supply',
  '"supply-chain"',
  'self-signed',
  'e-mail',
  'uninstall now',
  '"uninstall now"',
  "'reboot'",
  "it's",
  'café',
  'Café',
  'CAFE\u0301',
  'cafe',
  'cafés',
  'resume',
  'résumé',
  'naïve',
  'zoë',
  'straße',
  'STRASSE',
  'σίσυφος',
  'ΣΊΣΥΦΟΣ',
  'istanbul',
  'İstanbul',
  'džungla',
  'smoothoperator',
  'SmoothOperator',
  'smooth',
  '1e5',
  '0x1f',
  '007',
  '7',
  '½',
  '1',
  '2',
  'xii',
  '١٢٣',
  '१२३',
  '3,14',
  '10.0.0.1',
  '2023-03-29',
  '供应链',
  '供应链攻击',
  '攻击',
  'サプライ',
  '공급망',
  'beacon🙂',
  'zero width',
  'zerowidth',
  'soft hyphen',
  'ｆｆｍｐｅｇ',
  'ꭰꭱꭲ',
  'ꭰ',
  'ᏸᏹ',
  '𞤀𞤁',
  'ა',
  'Ა',
  'x'.repeat(64),
  'x'.repeat(80),
  'y'.repeat(65),
  'script alert',
  'amp',
  'https example',
  'beacon',
  'duplicate notice',
  'near',
  'NEAR',
  'NEAR(near or)',
  'NEAR/2',
  'or',
  'OR',
  'a OR b',
  'AND',
  'not',
  'NOT beacon',
  'beacon -near',
  '-near',
  '+and',
  '*',
  'beacon*',
  '*beacon',
  'bea*',
  '"',
  '""',
  '"beacon',
  'beacon"',
  ':',
  'search_text:',
  'search_text:near',
  'title: body:',
  '{search_text}: near',
  '^near',
  'near^',
  'near:*',
  "near:* & 'x'",
  'near & not | and',
  '!near',
  '<->',
  'near <-> not',
  '(((',
  ')',
  '\\',
  "'; DROP TABLE forum_posts; --",
  '%',
  '_',
  '%00 %27',
  '\u202e\ufeff beacon',
  'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau',
  'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi zzz',
  `beacon ${'w '.repeat(240)}`,
  'x'.repeat(500),
];

/** Words of each readable post, as the reference model of the search: every term, the last a prefix. */
function modelHits(reader: Reader, q: string): string[] {
  const terms = queryTerms(q);
  if (terms.length === 0) return [];
  const whole = terms.slice(0, -1);
  const prefix = terms[terms.length - 1] as string;
  const hiddenThreads = new Set(CORPUS.filter((e) => e.hidden && !e.thread).map((e) => e.label));
  return CORPUS.filter((entry) => {
    const opening = entry.thread === undefined ? entry : CORPUS.find((e) => e.label === entry.thread);
    if (entry.hidden || hiddenThreads.has(opening?.label ?? '')) return false;
    if (opening?.org !== undefined && opening.org !== reader) return false;
    const words = new Set(searchTextOf(entry.title ?? '', entry.body).split(' '));
    return whole.every((term) => words.has(term)) && [...words].some((word) => word.startsWith(prefix));
  }).map((e) => e.label);
}

/** One dialect's hub with the corpus posted through the API; post ids mapped back to corpus labels. */
interface Seeded {
  store: TestStore;
  /** One page of results as labels, or the error answer. */
  page(
    reader: Reader,
    q: string,
    limit: number,
    offset: number,
  ): Promise<{ status: number; labels: string[]; json: Json }>;
  /** The labels `searchForum` finds for a member of `reader` when it ranks only the newest `rankWindow` matches. */
  windowed(reader: Reader, q: string, rankWindow: number): Promise<string[]>;
  /** Every result, page after page. */
  search(reader: Reader, q: string): Promise<{ status: number; labels: string[]; json: Json }>;
}

async function seed(dialect: Dialect): Promise<Seeded> {
  const store = await openTestStore(dialect);
  const hub: TestApp = testApp(store.db);
  const vendor: SeededOrg = await seedOrg(store.db, 'Vendor');
  const orgs: Record<Reader, SeededOrg> = {
    acme: await seedOrg(store.db, 'Acme'),
    other: await seedOrg(store.db, 'Other'),
  };
  const staff = vendor.apiTokens['vendor-staff'];
  const member = (reader: Reader) => orgs[reader].apiTokens['org-member'];
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await hub.app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as Json };
  };
  const created = async (method: string, path: string, token: string, body: unknown) => {
    const res = await call(method, path, token, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json;
  };
  await created('POST', '/api/v1/incidents', staff, { slug: '3cx-2023', title: '3CX' });
  await created('POST', '/api/v1/forum/categories', staff, { slug: 'help', title: 'Help' });
  const threadOf = new Map<string, string>();
  const labelOf = new Map<string, string>();
  const toHide: string[] = [];
  for (const entry of CORPUS) {
    const token = member(entry.author ?? 'acme');
    const json =
      entry.thread === undefined
        ? await created('POST', '/api/v1/forum/threads', token, {
            category: 'help',
            title: entry.title,
            body: entry.body,
            visibility: entry.org ? 'organisation' : 'public',
          })
        : await created('POST', `/api/v1/forum/threads/${threadOf.get(entry.thread)}/replies`, token, {
            body: entry.body,
          });
    if (entry.thread === undefined) threadOf.set(entry.label, json.thread.id);
    labelOf.set(json.post.id, entry.label);
    if (entry.hidden) toHide.push(json.post.id);
  }
  for (const id of toHide) await created('POST', `/api/v1/forum/posts/${id}/hide`, staff, {});
  const page: Seeded['page'] = async (reader, q, limit, offset) => {
    const path = `/api/v1/forum/search?q=${encodeURIComponent(q)}&limit=${limit}&offset=${offset}`;
    const res = await call('GET', path, member(reader));
    const labels =
      res.status === 200
        ? (res.json.results as Json[]).map((r) => labelOf.get(r.postId) ?? `unknown ${r.postId}`)
        : [];
    return { status: res.status, labels, json: res.json };
  };
  const windowed: Seeded['windowed'] = async (reader, q, rankWindow) => {
    const caller = { kind: 'api', tokenId: 'parity', orgId: orgs[reader].orgId, role: 'org-member' } as const;
    const hits = await searchForum(store.db, caller, q, { limit: 50, offset: 0 }, rankWindow);
    return hits.map((hit) => labelOf.get(hit.postId) ?? `unknown ${hit.postId}`);
  };
  return {
    store,
    page,
    windowed,
    async search(reader, q) {
      const labels: string[] = [];
      for (let offset = 0; ; offset += 50) {
        const found = await page(reader, q, 50, offset);
        labels.push(...found.labels);
        if (found.status !== 200 || found.labels.length < 50) return { ...found, labels };
      }
    },
  };
}

describe('forum search on SQLite FTS5 and PostgreSQL tsvector', () => {
  const hubs = {} as Record<Dialect, Seeded>;
  beforeAll(async () => {
    for (const dialect of DIALECTS) hubs[dialect] = await seed(dialect);
  });
  afterAll(async () => {
    for (const dialect of DIALECTS) await hubs[dialect]?.store.cleanup();
  });
  const both = (reader: Reader, q: string) =>
    Promise.all(DIALECTS.map(async (dialect) => ({ dialect, ...(await hubs[dialect].search(reader, q)) })));

  it('finds the same posts on both, exactly those the reference model finds, never a hidden or foreign one', async () => {
    const differences: Record<string, unknown>[] = [];
    for (const reader of ['acme', 'other'] as const)
      for (const q of QUERIES) {
        const model = modelHits(reader, q).sort();
        for (const answer of await both(reader, q)) {
          const hits = [...answer.labels].sort();
          if (answer.status !== 200 || hits.join() !== model.join())
            differences.push({ reader, q, dialect: answer.dialect, status: answer.status, hits, model });
        }
      }
    expect(differences).toEqual([]);
    // The corpus reaches the cases it is there for.
    const found = (q: string) => modelHits('acme', q);
    expect(found('ffmpeg.dll')).toEqual(
      expect.arrayContaining(['dll', 'dll-reply', 'markdown', 'acme-private']),
    );
    expect(found('café')).toEqual(['cafe-nfc', 'cafe-nfd']);
    expect(found('cafe')).toEqual(['cafe-plain']);
    expect(found('supply-chain')).toEqual(['hyphen', 'hyphen-words']);
    expect(found('beacon')).not.toContain('other-private');
    expect(found('beacon')).not.toContain('hidden-reply');
    expect(modelHits('other', 'near not')).toEqual(['operators', 'other-private']);
    expect(found('ｆｆｍｐｅｇ')).toContain('fullwidth');
    expect(found('供应链')).toEqual(['cjk']);
    expect(found('y'.repeat(65))).toEqual(['long-word']);
  });

  it('answers an empty, blank or too long query 400 naming q on both', async () => {
    for (const q of ['', ' ', '\t \n', 'x'.repeat(501)])
      for (const answer of await both('acme', q))
        expect({
          q,
          dialect: answer.dialect,
          status: answer.status,
          field: answer.json.error?.field,
        }).toEqual({
          q,
          dialect: answer.dialect,
          status: 400,
          field: 'q',
        });
    const terms = Array.from({ length: MAX_QUERY_TERMS + 4 }, (_, i) => `t${i}`);
    expect(queryTerms(terms.join(' '))).toHaveLength(MAX_QUERY_TERMS);
  });

  it('orders equally scored posts the same way on both (newest first), page by page', async () => {
    const pages = await Promise.all(
      DIALECTS.map(async (dialect) => {
        const labels: string[] = [];
        for (let offset = 0; offset < 6; offset += 2)
          labels.push(...(await hubs[dialect].page('acme', 'duplicate notice', 2, offset)).labels);
        return labels;
      }),
    );
    expect(pages).toEqual(DIALECTS.map(() => ['dup-5', 'dup-4', 'dup-3', 'dup-2', 'dup-1', 'dup-0']));
  });

  it('ranks by each engine: the post saying the word five times first on both, the rest as the engine scores them', async () => {
    // bm25 (FTS5) weighs term frequency against document length and the term's rarity; ts_rank (PostgreSQL)
    // counts matches without either. Past a clear winner the two orders may differ, so only the set is compared.
    for (const answer of await both('acme', 'beacon')) expect(answer.labels[0]).toBe('beacon-5');
  });

  it('ranks only the newest readable matches of the window on both (hidden and foreign posts take no place in it)', async () => {
    for (const q of ['beacon', 'ffmpeg.dll', 'duplicate notice', '3cx', 'near'])
      for (const rankWindow of [1, 3, 5])
        for (const reader of ['acme', 'other'] as const) {
          const newest = modelHits(reader, q).slice(-rankWindow).sort();
          for (const dialect of DIALECTS)
            expect({
              q,
              rankWindow,
              reader,
              dialect,
              hits: (await hubs[dialect].windowed(reader, q, rankWindow)).sort(),
            }).toEqual({
              q,
              rankWindow,
              reader,
              dialect,
              hits: newest,
            });
        }
    for (const dialect of DIALECTS)
      expect(await hubs[dialect].windowed('acme', 'beacon', 2)).not.toContain('beacon-5');
  });
});
