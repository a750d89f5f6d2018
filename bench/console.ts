/**
 * `npm run bench:console -- [--hosts N] [--runs R]`: the console's fleet overview over a large fleet. Seeds a fresh
 * SQLite data folder with N hosts (default 100,000) in the states an incident leaves (directly in the store, since
 * the overview reads hosts, not reports), starts the real `chainsweep serve`, signs in in Debian's Chromium and
 * times, R times each, a cold load (no service worker, empty cache) and a warm one (shell from the service worker)
 * of `/console/` until the counts are on screen, and the `GET /api/v1/fleet/summary` behind it. Prints a Markdown
 * table (also written to bench/.work/console-results.md).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { launchConsoleBrowser } from '../packages/hub/src/testing/console-browser.js';
import { percentile } from './hub-load.js';
import { CLI, startServe, stop } from './hub-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: { hosts: { type: 'string', default: '100000' }, runs: { type: 'string', default: '10' } },
});
const HOSTS = Number(values.hosts);
const RUNS = Number(values.runs);
const PASSWORD = 'bench console password';
/** Share of the fleet in each state, as a fleet a week into an incident might be. */
const MIX: [string, number][] = [
  ['beaconed', 0.003],
  ['hits', 0.01],
  ['affected', 0.05],
  ['partial', 0.02],
  ['stale', 0.01],
  ['new', 0.007],
];

function cli(args: string[], input = ''): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'ignore', 'inherit'] });
    child.stdin.end(input);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`chainsweep ${args.join(' ')}: ${code}`)),
    );
  });
}

/** N hosts of one organisation, each in a state by MIX (the rest clean), all reporting within the last hour. */
function seed(dbFile: string): Record<string, number> {
  const db = new Database(dbFile);
  const org = (db.prepare("SELECT id FROM orgs WHERE name = 'Acme'").get() as { id: string }).id;
  const insert = db.prepare(
    `INSERT INTO hosts (id, org_id, claimed_host_id, hostname, hostname_key, os, addresses, first_report_at,
       last_report_at, state, base_state, state_since) VALUES (?, ?, ?, ?, ?, 'windows', ?, ?, ?, ?, ?, ?)`,
  );
  const counts: Record<string, number> = {};
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < HOSTS; i += 1) {
      let state = 'clean';
      let upTo = 0;
      for (const [name, share] of MIX) {
        upTo += share;
        if (i / HOSTS < upTo) {
          state = name;
          break;
        }
      }
      counts[state] = (counts[state] ?? 0) + 1;
      const name = `pc-${String(i).padStart(6, '0')}`;
      const seen = new Date(
        now - (state === 'stale' ? 40 : 0) * 86_400_000 - (i % 3600) * 1000,
      ).toISOString();
      insert.run(
        randomUUID(),
        org,
        randomUUID(),
        name,
        name,
        JSON.stringify([`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`]),
        seen,
        seen,
        state,
        state === 'stale' ? 'clean' : state,
        seen,
      );
    }
  })();
  db.close();
  return counts;
}

async function main(): Promise<void> {
  const data = mkdtempSync(join(tmpdir(), 'chainsweep-bench-console-'));
  await cli(['hub', '--data', data, 'org', 'add', 'Acme']);
  await cli(
    ['hub', '--data', data, 'user', 'add', 'lead@acme.test', '--org', 'Acme', '--role', 'org-admin'],
    `${PASSWORD}\n`,
  );
  const counts = seed(join(data, 'hub.db'));
  const { child: serve, url } = await startServe(['--data', data], join(data, 'serve.log'));
  const browser = await launchConsoleBrowser();
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(`${url}/console/`);
    await page.getByLabel('Email').fill('lead@acme.test');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const ready = page.getByRole('heading', { name: `Hosts by state (${HOSTS})` });
    await ready.waitFor({ timeout: 60_000 });
    const cdp = await browser.newCDPSession(page);
    const load = async () => {
      const started = performance.now();
      await page.goto(`${url}/console/`);
      await ready.waitFor({ timeout: 60_000 });
      return performance.now() - started;
    };
    const cold: number[] = [];
    await cdp.send('Network.enable');
    await cdp.send('Network.setBypassServiceWorker', { bypass: true });
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    for (let run = 0; run < RUNS; run += 1) cold.push(await load());
    await cdp.send('Network.setBypassServiceWorker', { bypass: false });
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
    await page.evaluate('navigator.serviceWorker.ready.then(() => true)');
    await load();
    const warm: number[] = [];
    for (let run = 0; run < RUNS; run += 1) warm.push(await load());
    const summary: number[] = [];
    for (let run = 0; run < RUNS * 5; run += 1) {
      const started = performance.now();
      const res = await page.request.get(`${url}/api/v1/fleet/summary?days=30`);
      if (res.status() !== 200) throw new Error(`summary answered ${res.status()}`);
      summary.push(performance.now() - started);
    }
    const row = (name: string, values: number[]) =>
      `| ${name} | ${percentile(values, 50).toFixed(0)} | ${percentile(values, 99).toFixed(0)} |`;
    const table = [
      `Console overview over ${HOSTS.toLocaleString('en')} hosts (${Object.entries(counts)
        .map(([s, n]) => `${s} ${n}`)
        .join(', ')}), ${RUNS} loads each`,
      '',
      '| | p50 ms | p99 ms |',
      '| --- | ---: | ---: |',
      row('cold load to counts on screen (no service worker, no cache)', cold),
      row('warm load to counts on screen (shell from the service worker)', warm),
      row('`GET /api/v1/fleet/summary?days=30` alone', summary),
    ].join('\n');
    process.stdout.write(`${table}\n`);
    mkdirSync(join(ROOT, 'bench/.work'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/.work/console-results.md'), `${table}\n`);
  } finally {
    await browser.close();
    await stop(serve);
  }
}

await main();
