/**
 * `npm run bench:support -- [--posts N] [--tickets N] [--ticket-replies N] [--db postgres://...]
 * [--only sqlite|postgres] [--concurrency C] [--runs R] [--keep]`: runs the real `chainsweep serve` on a fresh SQLite data
 * folder and on a fresh PostgreSQL database (created from the `--db` URL's server and dropped afterwards), sets up
 * two organisations, an incident and a forum category with the admin CLI and the API, then times over loopback
 * (keep-alive, C requests in flight) ticket creation and ticket replies, loads N forum posts through the API
 * (threads and replies of deterministic English-like text; a tenth of the threads private to the other
 * organisation, one reply in a hundred hidden) and times `GET /api/v1/forum/search` for rare, common, two-term,
 * dotted and short-prefix queries, R runs each, one at a time. Every answer is checked: each creation 201, each
 * search's first page exactly as long as the corpus says it must be. Prints a Markdown table (also written to
 * bench/.work/support-results.md). `--keep` leaves the data folder and the PostgreSQL database in place (their
 * names on stderr), for EXPLAIN.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { wordsOf } from '../packages/hub/src/support/forum/search-terms.js';
import { HubClient, percentile, runPool } from './hub-load.js';
import {
  chainsweep,
  cpuSecondsOf,
  type ScratchDatabase,
  scratchDatabase,
  startServe,
  stop,
} from './hub-process.js';
import { Random } from './random.js';
import {
  type CorpusPost,
  expectedHits,
  indexedWords,
  POSTS_PER_THREAD,
  paragraph,
  supportCorpus,
} from './support-corpus.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORK = join(ROOT, 'bench/.work');
/** The page size of the timed searches (the API's largest). */
const SEARCH_LIMIT = 50;

const { values: options } = parseArgs({
  options: {
    posts: { type: 'string', default: '100000' },
    tickets: { type: 'string', default: '5000' },
    'ticket-replies': { type: 'string', default: '10000' },
    db: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    only: { type: 'string' },
    concurrency: { type: 'string', default: '32' },
    runs: { type: 'string', default: '200' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});
const POSTS = Number(options.posts);
const TICKETS = Number(options.tickets);
const TICKET_REPLIES = Number(options['ticket-replies']);
const CONCURRENCY = Number(options.concurrency);
const RUNS = Number(options.runs);
const THREADS = Math.ceil(POSTS / POSTS_PER_THREAD);

/** The timed searches: what each is meant to exercise. */
const QUERIES: { q: string; what: string }[] = [
  { q: 'smoothoperator', what: 'rare term' },
  { q: 'iconic stealer', what: 'two rare terms' },
  { q: '3cx', what: 'common term' },
  { q: 'the', what: 'most common word' },
  { q: 'ffmpeg.dll', what: 'file name (two terms)' },
  { q: 'beacon uninstall', what: 'two common terms' },
  { q: '18.12.416', what: 'version (three terms)' },
  { q: 'd3dcompiler_47.dll signature', what: 'four terms' },
  { q: 'uninst', what: 'prefix' },
  { q: 'u', what: 'one-letter prefix' },
  { q: 'zzzqqq', what: 'no match' },
];

const log = (line: string) =>
  process.stderr.write(`[bench:support ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

// --- the hub ----------------------------------------------------------------------------------------------

/** Throughput, latency and hub CPU of one batch of requests. */
interface Load {
  perS: number;
  p50: number;
  p99: number;
  cpuMs: number;
}

/** Latency and hub CPU of one timed search, and what it found. */
interface SearchTiming {
  q: string;
  what: string;
  expected: number;
  p50: number;
  p99: number;
  cpuMs: number;
}

/** What one store's run measured. */
interface Result {
  dialect: 'sqlite' | 'postgres';
  tickets: Load;
  ticketReplies: Load;
  threads: Load;
  replies: Load;
  loadSeconds: number;
  searches: SearchTiming[];
  storeMiB: number;
  checks: string[];
}

async function runOn(dialect: 'sqlite' | 'postgres', corpus: readonly CorpusPost[]): Promise<Result> {
  mkdirSync(WORK, { recursive: true });
  const dataDir = await mkdtemp(join(WORK, `support-${dialect}-`));
  let dbArgs: string[] = [];
  let database: ScratchDatabase | undefined;
  if (dialect === 'postgres') {
    database = await scratchDatabase(options.db as string, 'bench_support');
    dbArgs = ['--db', database.url];
    if (!database.autovacuum)
      log(
        'postgres: autovacuum is off on this server; the bench runs ANALYZE after each load, as autovacuum would',
      );
  }
  const analyze = async () => database?.analyze();
  const checks: string[] = [];
  const check = (ok: boolean, what: string) => {
    checks.push(`${ok ? 'ok' : 'FAILED'}: ${what}`);
    if (!ok) log(`check FAILED: ${what}`);
  };
  try {
    const admin = (...args: string[]) => chainsweep(['hub', '--data', dataDir, ...dbArgs, ...args]);
    await admin('org', 'add', 'bench');
    await admin('org', 'add', 'other');
    const apiToken = (org: string, role: string) =>
      admin('token', 'add', '--org', org, '--kind', 'api', '--role', role);
    const member = await apiToken('bench', 'org-member');
    const otherMember = await apiToken('other', 'org-member');
    const staff = await apiToken('bench', 'vendor-staff');
    const { child, url } = await startServe(
      ['--data', dataDir, ...dbArgs],
      join(WORK, `support-serve-${dialect}.log`),
    );
    const pid = child.pid as number;
    const client = new HubClient(url, CONCURRENCY);
    const json = (token: string) => ({
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
    });
    /** POSTs that must answer 201; returns the answer's JSON and latency. */
    const create = async (path: string, token: string, body: unknown) => {
      const answer = await client.send('POST', path, json(token), JSON.stringify(body));
      if (answer.status !== 201)
        throw new Error(`POST ${path}: ${answer.status} ${answer.body.slice(0, 300)}`);
      // biome-ignore lint/suspicious/noExplicitAny: the bench reads ids by path
      return { body: JSON.parse(answer.body) as Record<string, any>, ms: answer.ms };
    };
    /** Runs n creations C at a time and measures them; every one must answer 201. */
    const load = async (n: number, task: (i: number) => Promise<number>): Promise<Load> => {
      const cpu = cpuSecondsOf(pid);
      const run = await runPool(n, CONCURRENCY, task);
      return {
        perS: n / run.seconds,
        p50: percentile(run.latencies, 50),
        p99: percentile(run.latencies, 99),
        cpuMs: ((cpuSecondsOf(pid) - cpu) * 1000) / n,
      };
    };
    try {
      log(`${dialect}: hub ${url} (pid ${pid})`);
      await create('/api/v1/incidents', staff, {
        slug: '3cx-2023',
        title: '3CX DesktopApp supply-chain compromise',
        freeTickets: 10_000,
        whenUsedUp: 'paid',
      });
      await create('/api/v1/forum/categories', staff, {
        slug: '3cx-help',
        title: '3CX incident help',
        incident: '3cx-2023',
      });

      log(`${dialect}: ${TICKETS} tickets, then ${TICKET_REPLIES} replies`);
      const ticketIds: string[] = new Array(TICKETS);
      const tickets = await load(TICKETS, async (i) => {
        const random = new Random(500_000 + i);
        const { body, ms } = await create('/api/v1/tickets', member, {
          incident: '3cx-2023',
          subject: paragraph(random, 1).slice(0, 150),
          body: paragraph(random, random.int(2, 6)),
        });
        ticketIds[i] = body.ticket.id;
        return ms;
      });
      check(
        new Set(ticketIds).size === TICKETS,
        `${TICKETS} tickets created, each answered 201 with its own id`,
      );
      const ticketReplies = await load(TICKET_REPLIES, async (i) => {
        const random = new Random(700_000 + i);
        const { ms } = await create(
          `/api/v1/tickets/${ticketIds[i % TICKETS]}/messages`,
          i % 2 === 0 ? staff : member,
          { body: paragraph(random, random.int(1, 4)) },
        );
        return ms;
      });
      check(true, `${TICKET_REPLIES} ticket replies, each answered 201`);

      log(`${dialect}: loading ${corpus.length} forum posts (${THREADS} threads) through the API`);
      const loadStarted = performance.now();
      const threadIds: string[] = new Array(THREADS);
      const threads = await load(THREADS, async (t) => {
        const post = corpus[t] as CorpusPost;
        const { body, ms } = await create('/api/v1/forum/threads', post.otherOrg ? otherMember : member, {
          category: '3cx-help',
          title: post.title,
          body: post.body,
          visibility: post.otherOrg ? 'organisation' : 'public',
        });
        threadIds[t] = body.thread.id;
        return ms;
      });
      const hide: string[] = [];
      const replies = await load(corpus.length - THREADS, async (r) => {
        const post = corpus[THREADS + r] as CorpusPost;
        const author = post.otherOrg ? otherMember : r % 3 === 0 ? staff : member;
        const { body, ms } = await create(`/api/v1/forum/threads/${threadIds[post.thread]}/replies`, author, {
          body: post.body,
        });
        if (post.hidden) hide.push(body.post.id);
        return ms;
      });
      await runPool(hide.length, CONCURRENCY, async (i) => {
        const answer = await client.send('POST', `/api/v1/forum/posts/${hide[i]}/hide`, json(staff), '{}');
        if (answer.status !== 200) throw new Error(`hide: ${answer.status} ${answer.body.slice(0, 300)}`);
        return answer.ms;
      });
      const loadSeconds = (performance.now() - loadStarted) / 1000;
      check(
        true,
        `${THREADS} threads and ${corpus.length - THREADS} replies, each answered 201; ${hide.length} hidden`,
      );
      log(`${dialect}: loaded in ${loadSeconds.toFixed(0)} s`);
      await analyze();

      const words = corpus.map(indexedWords);
      const searches: SearchTiming[] = [];
      for (const { q, what } of QUERIES) {
        const expected = expectedHits(corpus, words, q);
        const path = `/api/v1/forum/search?q=${encodeURIComponent(q)}&limit=${SEARCH_LIMIT}`;
        const first = await client.getJson<{ results: { postId: string }[] }>(path, member);
        const want = Math.min(SEARCH_LIMIT, expected);
        check(
          first.results.length === want,
          `search "${q}": first page ${first.results.length} results (of ${expected} matching posts, expected ${want})`,
        );
        const ms: number[] = [];
        const cpu = cpuSecondsOf(pid);
        for (let k = 0; k < RUNS; k++) {
          const answer = await client.send('GET', path, { authorization: `Bearer ${member}` });
          if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status} ${answer.body}`);
          ms.push(answer.ms);
        }
        const timing = {
          q,
          what,
          expected,
          p50: percentile(ms, 50),
          p99: percentile(ms, 99),
          cpuMs: ((cpuSecondsOf(pid) - cpu) * 1000) / RUNS,
        };
        log(
          `${dialect}: search "${q}" (${expected} hits): p50 ${timing.p50.toFixed(1)} ms, p99 ${timing.p99.toFixed(1)} ms`,
        );
        searches.push(timing);
      }
      const storeMiB =
        dialect === 'sqlite'
          ? ['hub.db', 'hub.db-wal']
              .map((f) => join(dataDir, f))
              .filter(existsSync)
              .reduce((sum, f) => sum + statSync(f).size, 0) / 1048576
          : await (database?.sizeMiB() ?? Number.NaN);
      return { dialect, tickets, ticketReplies, threads, replies, loadSeconds, searches, storeMiB, checks };
    } finally {
      client.close();
      await stop(child);
    }
  } finally {
    if (database && options.keep) log(`postgres: kept database ${database.url}`);
    await database?.drop(options.keep);
    if (options.keep) log(`${dialect}: kept data folder ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

function table(results: Result[]): string {
  const f0 = (v: number) => (Number.isNaN(v) ? 'n/a' : Math.round(v).toLocaleString('en'));
  const f1 = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(1));
  const loadRows = (name: string, pick: (r: Result) => Load): [string, (r: Result) => string][] => [
    [`${name}, per s`, (r) => f0(pick(r).perS)],
    [`${name}, p50 / p99 ms`, (r) => `${f1(pick(r).p50)} / ${f1(pick(r).p99)}`],
    [`${name}, hub CPU ms each`, (r) => f1(pick(r).cpuMs)],
  ];
  const rows: [string, (r: Result) => string][] = [
    ...loadRows(`\`POST /tickets\` (${f0(TICKETS)}, ${CONCURRENCY} in flight)`, (r) => r.tickets),
    ...loadRows(`\`POST /tickets/{id}/messages\` (${f0(TICKET_REPLIES)})`, (r) => r.ticketReplies),
    ...loadRows(`\`POST /forum/threads\` (${f0(THREADS)})`, (r) => r.threads),
    ...loadRows(`\`POST /forum/threads/{id}/replies\` (${f0(POSTS - THREADS)})`, (r) => r.replies),
    [`loading ${f0(POSTS)} posts through the API, s`, (r) => f0(r.loadSeconds)],
    ...(results[0]?.searches ?? []).map((s, i): [string, (r: Result) => string] => [
      `search \`${s.q}\` (${s.what}; ${f0(s.expected)} hits), p50 / p99 ms; hub CPU ms`,
      (r) => {
        const t = r.searches[i] as SearchTiming;
        return `${f1(t.p50)} / ${f1(t.p99)}; ${f1(t.cpuMs)}`;
      },
    ]),
    ['store size MiB', (r) => f0(r.storeMiB)],
  ];
  const head = `| | ${results.map((r) => r.dialect).join(' | ')} |\n| --- |${results.map(() => ' ---: |').join('')}\n`;
  return head + rows.map(([name, cell]) => `| ${name} | ${results.map(cell).join(' | ')} |`).join('\n');
}

const dialects = (options.only ? [options.only] : ['sqlite', 'postgres']) as ('sqlite' | 'postgres')[];
const corpus = supportCorpus(POSTS);
const words = corpus.reduce((sum, p) => sum + wordsOf(p.body).length + wordsOf(p.title ?? '').length, 0);
log(
  `${POSTS} posts, ${(words / POSTS).toFixed(0)} words each on average; ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; load ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
);
const results: Result[] = [];
for (const dialect of dialects) results.push(await runOn(dialect, corpus));
const text = `${table(results)}\n\n${results.map((r) => `${r.dialect}:\n${r.checks.map((c) => `- ${c}`).join('\n')}`).join('\n\n')}\n`;
writeFileSync(join(WORK, 'support-results.md'), text);
process.stdout.write(text);
if (results.some((r) => r.checks.some((c) => c.startsWith('FAILED')))) process.exitCode = 1;
