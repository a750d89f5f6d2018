/**
 * `npm run bench:hub -- [--hosts N] [--pg-hosts N] [--db postgres://...] [--only sqlite|postgres]
 * [--concurrency C] [--profile] [--serve-cli FILE]`: runs the real `chainsweep serve` on a fresh SQLite data
 * folder and on a fresh PostgreSQL database (created from the `--db` URL's server and dropped afterwards), enrols
 * N hosts through the API, has each upload its own gzip scan report, times the fleet summary and the first page
 * of affected hosts, then uploads a pack with a new SHA-256 and times the retro-hunt, checking every count.
 * `--profile` writes the hub's CPU profile to bench/.work/hub-profiles; `--serve-cli` runs another build of the
 * CLI, for comparisons. Prints a Markdown table (also written to bench/.work/hub-results.md).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { packArchiveBytes, sha256Indicator, testKey } from '../packages/hub/src/packs/test-packs.js';
import { benchHost, benchReportBody, plantedCounts, RETRO_SHA256 } from './hub-fleet.js';
import { HubClient, percentile, runPool } from './hub-load.js';
import {
  chainsweep,
  cpuSecondsOf,
  type ScratchDatabase,
  scratchDatabase,
  startServe,
  stop,
} from './hub-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORK = join(ROOT, 'bench/.work');
const BODIES = join(WORK, 'hub-bodies-v1.bin');
const QUERY_RUNS = 200;

const { values: options } = parseArgs({
  options: {
    hosts: { type: 'string', default: '100000' },
    'pg-hosts': { type: 'string' },
    db: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    only: { type: 'string' },
    concurrency: { type: 'string', default: '48' },
    profile: { type: 'boolean', default: false },
    'serve-cli': { type: 'string' },
  },
  strict: true,
});
const HOSTS = Number(options.hosts);
const PG_HOSTS = Number(options['pg-hosts'] ?? options.hosts);
const CONCURRENCY = Number(options.concurrency);

const log = (line: string) =>
  process.stderr.write(`[bench:hub ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** What one store's run measured. */
interface Result {
  dialect: 'sqlite' | 'postgres';
  hosts: number;
  enrolPerS: number;
  enrolP50: number;
  enrolP99: number;
  ingestPerS: number;
  ingestP50: number;
  ingestP99: number;
  enrolCpuMs: number;
  ingestCpuMs: number;
  retroCpuS: number;
  retries: number;
  enrolFailures: number;
  rssPeakMiB: number;
  rssAfterMiB: number;
  summaryP50: number;
  summaryP99: number;
  affectedP50: number;
  affectedP99: number;
  retroSeconds: number;
  retroRunMs: number;
  retroFlagged: number;
  retroExpected: number;
  storeMiB: number;
  checks: string[];
}

/** The report bodies of hosts 0..n-1, generated once into bench/.work and read back on later runs. */
function reportBodies(n: number): Buffer[] {
  if (existsSync(BODIES)) {
    const file = readFileSync(BODIES);
    const count = file.readUInt32LE(0);
    if (count >= n) {
      const bodies: Buffer[] = [];
      let at = 4;
      for (let i = 0; i < n; i++) {
        const length = file.readUInt32LE(at);
        bodies.push(file.subarray(at + 4, at + 4 + length));
        at += 4 + length;
      }
      return bodies;
    }
  }
  log(`generating ${n} report bodies (once; cached in ${BODIES})`);
  const bodies = Array.from({ length: n }, (_, i) => benchReportBody(i));
  const header = Buffer.alloc(4);
  header.writeUInt32LE(n);
  const parts: Buffer[] = [header];
  for (const body of bodies) {
    const length = Buffer.alloc(4);
    length.writeUInt32LE(body.length);
    parts.push(length, body);
  }
  mkdirSync(WORK, { recursive: true });
  writeFileSync(BODIES, Buffer.concat(parts));
  return bodies;
}

/** Peak and current resident memory of a process, MiB, from /proc. */
function memoryOf(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { peak: kib('VmHWM') / 1024, now: kib('VmRSS') / 1024 };
}

async function runOn(dialect: 'sqlite' | 'postgres', n: number, bodies: Buffer[]): Promise<Result> {
  const dataDir = await mkdtemp(join(WORK, `hub-${dialect}-`));
  let dbArgs: string[] = [];
  let database: ScratchDatabase | undefined;
  if (dialect === 'postgres') {
    database = await scratchDatabase(options.db as string, 'bench_hub');
    dbArgs = ['--db', database.url];
    if (!database.autovacuum)
      log(
        'postgres: autovacuum is off on this server; the bench runs ANALYZE every 10 s as autovacuum would',
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
    const enrolToken = await admin('token', 'add', '--org', 'bench', '--kind', 'enrol');
    const apiToken = await admin('token', 'add', '--org', 'bench', '--kind', 'api', '--role', 'org-member');
    const staffToken = await admin(
      'token',
      'add',
      '--org',
      'bench',
      '--kind',
      'api',
      '--role',
      'vendor-staff',
    );
    const packKey = testKey('bench pack key');
    const keyring = join(dataDir, 'bench-keyring.json');
    writeFileSync(keyring, JSON.stringify({ keys: [packKey.key] }));
    const logFile = join(WORK, `hub-serve-${dialect}.log`);
    const { child, url } = await startServe(['--data', dataDir, '--pack-keys', keyring, ...dbArgs], logFile, {
      nodeArgs: options.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(WORK, 'hub-profiles')}`] : [],
      ...(options['serve-cli'] ? { cli: options['serve-cli'] } : {}),
    });
    const pid = child.pid as number;
    const client = new HubClient(url, CONCURRENCY);
    try {
      log(`${dialect}: hub ${url} (pid ${pid}); enrolling ${n} hosts`);
      const credentials: string[] = new Array(n);
      const cpuAtStart = cpuSecondsOf(pid);
      // An agent whose enrolment fails on the hub's side (5xx) enrols again; those failures are counted.
      let enrolFailures = 0;
      const enrol = await runPool(n, CONCURRENCY, async (i) => {
        for (;;) {
          const answer = await client.send(
            'POST',
            '/api/v1/enrol',
            { 'content-type': 'application/json' },
            JSON.stringify({ token: enrolToken, ...benchHost(i) }),
          );
          if (answer.status === 201) {
            credentials[i] = (JSON.parse(answer.body) as { credential: string }).credential;
            return answer.ms;
          }
          if (answer.status < 500) throw new Error(`enrol ${i}: ${answer.status} ${answer.body}`);
          enrolFailures++;
        }
      });
      log(`${dialect}: enrolled in ${enrol.seconds.toFixed(1)} s; ingesting ${n} reports`);
      const cpuAfterEnrol = cpuSecondsOf(pid);
      let retries = 0;
      let duplicates = 0;
      let rssPeakSampled = 0;
      const sampler = setInterval(() => {
        rssPeakSampled = Math.max(rssPeakSampled, memoryOf(pid).now);
      }, 1000);
      await analyze();
      let analyzing = false;
      const analyzer = setInterval(() => {
        if (analyzing) return;
        analyzing = true;
        analyze().finally(() => {
          analyzing = false;
        });
      }, 10_000);
      const ingest = await runPool(n, CONCURRENCY, async (i) => {
        for (;;) {
          const answer = await client.send(
            'POST',
            '/api/v1/reports',
            {
              authorization: `Bearer ${credentials[i]}`,
              'content-type': 'application/json',
              'content-encoding': 'gzip',
            },
            bodies[i],
          );
          if (answer.status === 202) {
            if ((JSON.parse(answer.body) as { duplicate: boolean }).duplicate) duplicates++;
            return answer.ms;
          }
          if (answer.status !== 503 && answer.status !== 429)
            throw new Error(`report ${i}: ${answer.status} ${answer.body.slice(0, 300)}`);
          retries++;
          await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
        }
      });
      clearInterval(sampler);
      clearInterval(analyzer);
      await analyze();
      const afterIngest = memoryOf(pid);
      const cpuAfterIngest = cpuSecondsOf(pid);
      log(`${dialect}: ingested in ${ingest.seconds.toFixed(1)} s (${(n / ingest.seconds).toFixed(0)}/s)`);
      check(duplicates === 0, `no upload was answered as a duplicate (${duplicates})`);

      const planted = plantedCounts(n);
      type Summary = { total: number; counts: Record<string, number> };
      const before = await client.getJson<Summary>('/api/v1/fleet/summary', apiToken);
      check(before.total === n, `summary total ${before.total} = ${n} hosts`);
      check(
        before.counts.affected === planted.affected,
        `affected ${before.counts.affected} = ${planted.affected}`,
      );
      check(before.counts.hits === planted.hits, `hits ${before.counts.hits} = ${planted.hits}`);
      const clean = n - planted.affected - planted.hits;
      check(before.counts.clean === clean, `clean ${before.counts.clean} = ${clean}`);

      const timeGets = async (path: string) => {
        const ms: number[] = [];
        for (let k = 0; k < QUERY_RUNS; k++) {
          const answer = await client.send('GET', path, { authorization: `Bearer ${apiToken}` });
          if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status} ${answer.body}`);
          ms.push(answer.ms);
        }
        return ms;
      };
      const summaryMs = await timeGets('/api/v1/fleet/summary');
      const affectedMs = await timeGets('/api/v1/hosts?state=affected');
      const page = await client.getJson<{ hosts: { state: string }[]; nextCursor: string | null }>(
        '/api/v1/hosts?state=affected',
        apiToken,
      );
      const expectedPage = Math.min(50, planted.affected);
      check(
        page.hosts.length === expectedPage && page.hosts.every((h) => h.state === 'affected'),
        `first page of affected hosts: ${page.hosts.length} affected hosts (expected ${expectedPage})`,
      );

      log(`${dialect}: uploading a pack with a new SHA-256 held by ${planted.retro} hosts`);
      const archive = await packArchiveBytes(
        'bench-retro',
        { indicators: [sha256Indicator('bench-new-updater', RETRO_SHA256)] },
        { key: packKey, sequence: 1 },
      );
      const cpuBeforeRetro = cpuSecondsOf(pid);
      const uploaded = performance.now();
      const answer = await client.send(
        'POST',
        '/api/v1/packs',
        { authorization: `Bearer ${staffToken}`, 'content-type': 'application/gzip' },
        archive,
      );
      if (answer.status !== 201) throw new Error(`pack upload: ${answer.status} ${answer.body}`);
      const runPath = (JSON.parse(answer.body) as { retroHunt: { href: string } }).retroHunt.href;
      type Run = { status: string; hostsChecked: number; hostsFlagged: number; durationMs: number | null };
      let run: Run;
      for (;;) {
        run = await client.getJson<Run>(runPath, staffToken);
        if (run.status === 'done' || run.status === 'failed') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const retroSeconds = (performance.now() - uploaded) / 1000;
      const retroCpuS = cpuSecondsOf(pid) - cpuBeforeRetro;
      log(
        `${dialect}: retro-hunt ${run.status} in ${retroSeconds.toFixed(1)} s, ${run.hostsFlagged} flagged`,
      );
      check(run.status === 'done', `retro-hunt status ${run.status}`);
      check(run.hostsChecked === n, `retro-hunt checked ${run.hostsChecked} = ${n} hosts`);
      check(run.hostsFlagged === planted.retro, `retro-hunt flagged ${run.hostsFlagged} = ${planted.retro}`);
      const after = await client.getJson<Summary>('/api/v1/fleet/summary', apiToken);
      check(
        after.counts.hits === planted.hits + planted.retro,
        `hits after the retro-hunt ${after.counts.hits} = ${planted.hits} + ${planted.retro}`,
      );

      const memory = memoryOf(pid);
      const storeMiB =
        dialect === 'sqlite'
          ? ['hub.db', 'hub.db-wal']
              .map((f) => join(dataDir, f))
              .filter(existsSync)
              .reduce((sum, f) => sum + statSync(f).size, 0) / 1048576
          : Number.NaN;
      return {
        dialect,
        hosts: n,
        enrolPerS: n / enrol.seconds,
        enrolP50: percentile(enrol.latencies, 50),
        enrolP99: percentile(enrol.latencies, 99),
        ingestPerS: n / ingest.seconds,
        ingestP50: percentile(ingest.latencies, 50),
        ingestP99: percentile(ingest.latencies, 99),
        enrolCpuMs: ((cpuAfterEnrol - cpuAtStart) * 1000) / n,
        ingestCpuMs: ((cpuAfterIngest - cpuAfterEnrol) * 1000) / n,
        retroCpuS,
        retries,
        enrolFailures,
        rssPeakMiB: Math.max(memory.peak, rssPeakSampled),
        rssAfterMiB: afterIngest.now,
        summaryP50: percentile(summaryMs, 50),
        summaryP99: percentile(summaryMs, 99),
        affectedP50: percentile(affectedMs, 50),
        affectedP99: percentile(affectedMs, 99),
        retroSeconds,
        retroRunMs: run.durationMs ?? Number.NaN,
        retroFlagged: run.hostsFlagged,
        retroExpected: planted.retro,
        storeMiB,
        checks,
      };
    } finally {
      client.close();
      await stop(child);
    }
  } finally {
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function table(results: Result[]): string {
  const f0 = (v: number) => (Number.isNaN(v) ? 'n/a' : Math.round(v).toLocaleString('en'));
  const f1 = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(1));
  const rows: [string, (r: Result) => string][] = [
    ['hosts', (r) => f0(r.hosts)],
    [`enrolment, hosts/s (concurrency ${CONCURRENCY})`, (r) => f0(r.enrolPerS)],
    ['enrolment p50 / p99 ms', (r) => `${f1(r.enrolP50)} / ${f1(r.enrolP99)}`],
    ['ingest, reports/s', (r) => f0(r.ingestPerS)],
    ['ingest p50 / p99 ms', (r) => `${f1(r.ingestP50)} / ${f1(r.ingestP99)}`],
    ['enrolments answered 5xx and sent again', (r) => f0(r.enrolFailures)],
    ['hub CPU ms per enrolment', (r) => f1(r.enrolCpuMs)],
    ['hub CPU ms per report', (r) => f1(r.ingestCpuMs)],
    ['uploads answered 503 and sent again', (r) => f0(r.retries)],
    ['hub peak RSS MiB (VmHWM)', (r) => f0(r.rssPeakMiB)],
    ['hub RSS after ingest MiB', (r) => f0(r.rssAfterMiB)],
    ['`GET /fleet/summary` p50 / p99 ms', (r) => `${f1(r.summaryP50)} / ${f1(r.summaryP99)}`],
    ['`GET /hosts?state=affected` p50 / p99 ms', (r) => `${f1(r.affectedP50)} / ${f1(r.affectedP99)}`],
    ['retro-hunt, upload to done, s', (r) => f1(r.retroSeconds)],
    ['retro-hunt run `durationMs`', (r) => f0(r.retroRunMs)],
    ['retro-hunt hub CPU s', (r) => f1(r.retroCpuS)],
    ['retro-hunt flagged / expected', (r) => `${f0(r.retroFlagged)} / ${f0(r.retroExpected)}`],
    ['SQLite files MiB', (r) => f0(r.storeMiB)],
  ];
  const head = `| | ${results.map((r) => r.dialect).join(' | ')} |\n| --- |${results.map(() => ' ---: |').join('')}\n`;
  return head + rows.map(([name, cell]) => `| ${name} | ${results.map(cell).join(' | ')} |`).join('\n');
}

const dialects = (options.only ? [options.only] : ['sqlite', 'postgres']) as ('sqlite' | 'postgres')[];
const bodies = reportBodies(Math.max(...dialects.map((d) => (d === 'postgres' ? PG_HOSTS : HOSTS))));
const sizes = bodies.slice(0, 1000).map((b) => b.length);
log(
  `${bodies.length} bodies, gzip ${Math.min(...sizes)}-${Math.max(...sizes)} bytes; ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; load ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
);
const results: Result[] = [];
for (const dialect of dialects)
  results.push(await runOn(dialect, dialect === 'postgres' ? PG_HOSTS : HOSTS, bodies));
const text = `${table(results)}\n\n${results.map((r) => `${r.dialect}:\n${r.checks.map((c) => `- ${c}`).join('\n')}`).join('\n\n')}\n`;
writeFileSync(join(WORK, 'hub-results.md'), text);
process.stdout.write(text);
if (results.some((r) => r.checks.some((c) => c.startsWith('FAILED')))) process.exitCode = 1;
