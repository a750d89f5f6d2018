import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../src/testing/run-cli.js';
import { indicatorsFile } from '../src/testing/signed-pack.js';
import { tempTree } from '../src/testing/temp-tree.js';

/** One request the fake hub received; a report's body is gunzipped and parsed. */
interface Recorded {
  at: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json?: { reportId?: string; command?: string; findings?: unknown[]; token?: string; hostId?: string };
}
type Answer = (res: ServerResponse, body: Recorded['json']) => void;

const accept: Answer = (res, body) =>
  res
    .writeHead(202, { 'content-type': 'application/json' })
    .end(JSON.stringify({ reportId: body?.reportId, hostId: 'h', duplicate: false }));
const status =
  (code: number, headers: Record<string, string> = {}, message = 'busy'): Answer =>
  (res) =>
    res
      .writeHead(code, { 'content-type': 'application/json', ...headers })
      .end(JSON.stringify({ error: { code: 'X', message } }));

/**
 * The edge of the machine: a hub on 127.0.0.1 that records every request and answers report uploads from a queue
 * (then `defaultReport`); `/feed/` is served from `feedDir` when set.
 */
class FakeHub {
  readonly requests: Recorded[] = [];
  reportAnswers: Answer[] = [];
  defaultReport: Answer = accept;
  enrolAnswer: Answer = (res, body) =>
    res
      .writeHead(201, { 'content-type': 'application/json' })
      .end(JSON.stringify({ agentId: 'agent-1', hostId: body?.hostId, credential: 'cred-0123456789abcdef' }));
  feedDir: string | undefined;
  url = '';
  private readonly server: Server;
  private readonly hanging: ServerResponse[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const recorded: Recorded = {
          at: Date.now(),
          method: req.method ?? '',
          path,
          headers: req.headers,
          body,
        };
        try {
          recorded.json = body.length ? JSON.parse(body.toString('utf8')) : undefined;
        } catch {
          // recorded as bytes
        }
        this.requests.push(recorded);
        if (path === '/api/v1/enrol') return this.enrolAnswer(res, recorded.json);
        if (path === '/api/v1/reports')
          return (this.reportAnswers.shift() ?? this.defaultReport)(res, recorded.json);
        const file =
          this.feedDir && path.startsWith('/feed/') ? join(this.feedDir, path.slice(6)) : undefined;
        if (file && existsSync(file) && statSync(file).isFile())
          return res.writeHead(200).end(readFileSync(file));
        res.writeHead(404).end();
      });
    });
  }

  /** An answer that never comes (until the hub closes). */
  readonly hang: Answer = (res) => {
    this.hanging.push(res);
  };

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this;
  }

  reports(): Recorded[] {
    return this.requests.filter((r) => r.path === '/api/v1/reports');
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const hubs: FakeHub[] = [];
afterEach(async () => {
  for (const hub of hubs.splice(0)) await hub.close();
});
async function fakeHub(): Promise<FakeHub> {
  const hub = await new FakeHub().start();
  hubs.push(hub);
  return hub;
}

/** A URL where nothing listens: a hub that is down. */
async function downHub(): Promise<string> {
  const hub = await new FakeHub().start();
  const url = hub.url;
  await hub.close();
  return url;
}

/** A small tree to scan, and a state folder path that does not exist yet. */
function setup(): { tree: string; state: string } {
  const root = tempTree({ 'tree/notes.txt': 'nothing to see' });
  return { tree: join(root, 'tree'), state: join(root, 'state') };
}

const agent = (hub: string, state: string, tree: string, extra: string[] = [], scan: string[] = []) =>
  runCli([
    'agent',
    '--hub',
    hub,
    '--state',
    state,
    '--once',
    '--retry-base',
    '10ms',
    ...extra,
    '--',
    tree,
    ...scan,
  ]);

const spooled = (state: string) => readdirSync(join(state, 'spool')).filter((n) => !n.startsWith('.'));
const mode = (path: string) => statSync(path).mode & 0o777;

/** The JSON line a `--format json` run printed for its (only) cycle. */
const cycleOf = (stdout: string) =>
  JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
    reports: { reportId: string; command: string; result: string }[];
    spool: { reports: number; dropped: number; rejected: number };
    enrolled: boolean;
  };

describe('chainsweep agent: enrolment and upload', () => {
  it('enrols once, keeps the credential 0600 in a 0700 folder, uploads gzipped reports and reuses the credential', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    const first = await agent(hub.url, state, tree, ['--enrol', 'enrol-token-1', '--format', 'json']);
    expect(first.code, first.stderr).toBe(0);
    expect(mode(state)).toBe(0o700);
    expect(mode(join(state, 'credential'))).toBe(0o600);
    expect(JSON.parse(readFileSync(join(state, 'credential'), 'utf8')).credential).toBe(
      'cred-0123456789abcdef',
    );
    const enrolled = hub.requests.filter((r) => r.path === '/api/v1/enrol');
    expect(enrolled).toHaveLength(1);
    expect(enrolled[0]?.json?.token).toBe('enrol-token-1');
    expect(enrolled[0]?.json?.hostId).toMatch(/^[0-9a-f-]{32,36}$/);
    const [upload] = hub.reports();
    expect(upload?.headers.authorization).toBe('Bearer cred-0123456789abcdef');
    expect(upload?.headers['content-encoding']).toBe('gzip');
    expect(upload?.json?.command).toBe('scan');
    const cycle = cycleOf(first.stdout);
    expect(cycle.reports).toEqual([
      expect.objectContaining({ reportId: upload?.json?.reportId, result: 'sent' }),
    ]);
    expect(spooled(state)).toEqual([]);
    expect(first.stderr).toMatch(/enrolled with .* as agent agent-1/);
    expect(first.stderr).toMatch(/scanned 1 files with 0 findings/);
    expect(first.stderr).toMatch(/uploaded scan report/);

    // Later runs need no token, and never enrol again even when given one.
    const second = await agent(hub.url, state, tree, ['--enrol', 'enrol-token-1']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/already enrolled as agent agent-1: --enrol is not used/);
    expect(second.stdout).toBe('');
    expect(hub.requests.filter((r) => r.path === '/api/v1/enrol')).toHaveLength(1);
    expect(hub.reports()).toHaveLength(2);
    expect(hub.reports()[1]?.json?.reportId).not.toBe(upload?.json?.reportId);
  });

  it('refuses to run unenrolled without a token; a refused token or enrolment is one line and exit 2, a busy hub spools', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    const unenrolled = await agent(hub.url, state, tree);
    expect(unenrolled.code).toBe(2);
    expect(unenrolled.stderr).toMatch(/not enrolled yet .*give --enrol TOKEN/);
    hub.enrolAnswer = status(401, {}, 'unknown enrolment token');
    const refused = await agent(hub.url, state, tree, ['--enrol', 'bad-token']);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/refused the enrolment token .*unknown enrolment token/);
    hub.enrolAnswer = status(400, {}, 'hostname: too long');
    const invalid = await agent(hub.url, state, tree, ['--enrol', 'tok']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/enrolment at .* failed: HTTP 400: X: hostname: too long/);
    hub.enrolAnswer = status(503, {}, 'starting');
    const busy = await agent(hub.url, state, tree, ['--enrol', 'tok']);
    expect(busy.code, busy.stderr).toBe(0);
    expect(busy.stderr).toMatch(/not enrolled yet: .*HTTP 503: X: starting; reports are spooled/);
    expect(existsSync(join(state, 'credential'))).toBe(false);
  });

  it('never sends the credential to another hub', async () => {
    const hub = await fakeHub();
    const other = await fakeHub();
    const { tree, state } = setup();
    expect((await agent(hub.url, state, tree, ['--enrol', 'tok'])).code).toBe(0);
    const moved = await agent(other.url, state, tree);
    expect(moved.code).toBe(2);
    expect(moved.stderr).toMatch(/was issued by http:\/\/127\.0\.0\.1:\d+\/, not/);
    expect(other.requests).toEqual([]);
  });

  it('a 401 on upload says the credential was revoked, exits non-zero and keeps the report spooled', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    expect((await agent(hub.url, state, tree, ['--enrol', 'tok'])).code).toBe(0);
    hub.defaultReport = status(401, {}, 'credential revoked');
    const revoked = await agent(hub.url, state, tree);
    expect(revoked.code).toBe(2);
    expect(revoked.stderr).toMatch(
      /refused this agent's credential .*credential revoked.*revoked or is unknown.*--enrol TOKEN/,
    );
    expect(spooled(state)).toHaveLength(1);
    expect(hub.reports()).toHaveLength(2); // no retry of a 401
  });

  it("a 400 moves the report to rejected/ with the hub's message and counts it", async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    hub.defaultReport = status(400, {}, 'findings[0].severity: invalid');
    const run = await agent(hub.url, state, tree, ['--enrol', 'tok', '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    expect(hub.reports()).toHaveLength(1);
    expect(spooled(state)).toEqual([]);
    const rejected = readdirSync(join(state, 'rejected'));
    const reportId = hub.reports()[0]?.json?.reportId;
    expect(rejected.sort()).toEqual([
      expect.stringMatching(`-${reportId}\\.scan\\.json\\.gz$`),
      expect.stringMatching(/\.reason\.json$/),
    ]);
    const reason = JSON.parse(
      readFileSync(join(state, 'rejected', rejected.find((n) => n.endsWith('.reason.json')) ?? ''), 'utf8'),
    );
    expect(reason).toMatchObject({
      reportId,
      status: 400,
      message: expect.stringContaining('findings[0].severity: invalid'),
    });
    expect(JSON.parse(readFileSync(join(state, 'counters.json'), 'utf8'))).toEqual({
      dropped: 0,
      rejected: 1,
    });
    expect(cycleOf(run.stdout).reports[0]?.result).toBe('rejected');
    expect(run.stderr).toMatch(/rejected scan report .* for good .*1 rejected in all/);
  });
});

describe('chainsweep agent: state folder', () => {
  it('refuses a state folder others may write, one owned by someone else, a link, and a readable credential', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    mkdirSync(state, { mode: 0o700 });
    chmodSync(state, 0o770);
    const groupWritable = await agent(hub.url, state, tree, ['--enrol', 'tok']);
    expect(groupWritable.code).toBe(2);
    expect(groupWritable.stderr).toMatch(
      /must be a folder of this user's that no one else can write .*mode 770/,
    );
    chmodSync(state, 0o700);
    if (process.getuid?.() === 0) {
      // Only root can give a folder away.
      chownSync(state, 65534, 65534);
      const foreign = await agent(hub.url, state, tree, ['--enrol', 'tok']);
      expect(foreign.code).toBe(2);
      expect(foreign.stderr).toMatch(/uid 65534/);
      chownSync(state, 0, 0);
    }
    const link = `${state}-link`;
    symlinkSync(state, link);
    const linked = await agent(hub.url, link, tree, ['--enrol', 'tok']);
    expect(linked.code).toBe(2);
    expect(linked.stderr).toMatch(/is not a folder \(a link or a file\)/);
    expect(hub.requests).toEqual([]);

    expect((await agent(hub.url, state, tree, ['--enrol', 'tok'])).code).toBe(0);
    chmodSync(join(state, 'credential'), 0o644);
    const readable = await agent(hub.url, state, tree);
    expect(readable.code).toBe(2);
    expect(readable.stderr).toMatch(
      /credential .* must be a file of this user's with mode 0600 \(it is mode 644/,
    );
  });

  it('lets one agent at a time use a state folder', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    const child = spawn(
      process.execPath,
      [CLI, 'agent', '--hub', hub.url, '--state', state, '--enrol', 'tok', '--every', '1h', '--', tree],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await until(() => stderr.includes('next cycle at'));
    const second = await agent(hub.url, state, tree);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/another agent runs on .*still running/);
    // SIGTERM between cycles: a clean exit, the lock released.
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(join(state, 'agent.lock'))).toBe(false);
    expect(hub.reports()).toHaveLength(1);
  });
});

describe('chainsweep agent: a stale lock', () => {
  it('takes over a lock whose pid now belongs to another program (a running agent is refused, above)', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    expect((await agent(hub.url, state, tree, ['--enrol', 'tok'])).code).toBe(0);
    const other = spawn('sleep', ['100'], { stdio: 'ignore' });
    try {
      writeFileSync(join(state, 'agent.lock'), `${other.pid}\n`);
      const run = await agent(hub.url, state, tree);
      expect(run.code, run.stderr).toBe(0);
      expect(existsSync(join(state, 'agent.lock'))).toBe(false);
      expect(hub.reports()).toHaveLength(2);
    } finally {
      other.kill('SIGKILL');
    }
  });
});

describe('chainsweep agent: spool', () => {
  it('keeps reports while the hub is down, within its bound: the oldest are dropped and counted', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    expect((await agent(hub.url, state, tree, ['--enrol', 'tok'])).code).toBe(0);
    hub.defaultReport = status(503);
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await agent(hub.url, state, tree, [
        '--retries',
        '0',
        '--spool-max-reports',
        '2',
        '--format',
        'json',
      ]);
      expect(run.code, run.stderr).toBe(0); // spooled: it will be sent later
      made.push(...cycleOf(run.stdout).reports.map((r) => r.reportId));
      if (i === 2) {
        expect(run.stderr).toMatch(/spool full \(2 reports, .*\): dropped the 1 oldest, 1 dropped in all/);
        expect(cycleOf(run.stdout).spool).toMatchObject({ reports: 2, dropped: 1 });
      }
    }
    // Each run tried the oldest spooled report at its start and after its scan, and stopped there: the hub was down.
    expect(
      hub
        .reports()
        .slice(1)
        .map((r) => r.json?.reportId),
    ).toEqual([made[0], made[0], made[0], made[0], made[1]]);
    expect(spooled(state).map((n) => n.split('-').slice(1).join('-').split('.')[0])).toEqual(made.slice(1));
    expect(JSON.parse(readFileSync(join(state, 'counters.json'), 'utf8'))).toEqual({
      dropped: 1,
      rejected: 0,
    });

    // The hub is back: the spool is sent oldest first, then the new report.
    hub.defaultReport = accept;
    const back = await agent(hub.url, state, tree, ['--format', 'json']);
    expect(back.code, back.stderr).toBe(0);
    const sent = hub
      .reports()
      .slice(6)
      .map((r) => r.json?.reportId);
    expect(sent.slice(0, 2)).toEqual(made.slice(1));
    expect(sent).toHaveLength(3);
    expect(spooled(state)).toEqual([]);
  });

  it('bounds the spool by bytes too, and sends at once a report too large to spool', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    expect((await agent(hub.url, state, tree, ['--enrol', 'tok'])).code).toBe(0);
    const size = hub.reports()[0]?.headers['content-length'];
    const one = Number(size);
    expect(one).toBeGreaterThan(100);
    hub.defaultReport = status(503);
    const bound = ['--retries', '0', '--spool-max-bytes', String(Math.floor(one * 1.5))];
    expect((await agent(hub.url, state, tree, bound)).code).toBe(0);
    const second = await agent(hub.url, state, tree, bound);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/dropped the 1 oldest/);
    expect(spooled(state)).toHaveLength(1);

    // Smaller than one report: nothing can be spooled. With the hub down it is lost (74); up, it is sent (0).
    const tiny = ['--retries', '0', '--spool-max-bytes', '100'];
    const lost = await agent(hub.url, state, tree, [...tiny, '--format', 'json']);
    expect(lost.code).toBe(74);
    expect(lost.stderr).toMatch(
      /not spooled \(\d+ bytes gzipped, more than the spool's 100\); sending it now/,
    );
    expect(cycleOf(lost.stdout).reports[0]?.result).toBe('lost');
    hub.defaultReport = accept;
    const direct = await agent(hub.url, state, tree, [...tiny, '--format', 'json']);
    expect(direct.code, direct.stderr).toBe(0);
    expect(cycleOf(direct.stdout).reports[0]?.result).toBe('sent');
    expect(spooled(state)).toEqual([]);
  });

  it('exits 74 when the spool cannot be written and the hub is down, 0 when the report went straight to the hub', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    hub.defaultReport = status(503);
    expect((await agent(hub.url, state, tree, ['--enrol', 'tok', '--retries', '0'])).code).toBe(0);
    expect(spooled(state)).toHaveLength(1);
    chmodSync(join(state, 'spool'), 0o500);
    const run = (extra: string[]) =>
      runCli(
        ['agent', '--hub', hub.url, '--state', state, '--once', '--retries', '0', ...extra, '--', tree],
        {
          obeyPermissions: true,
        },
      );
    const lost = await run([]);
    expect(lost.code, lost.stderr).toBe(74);
    expect(lost.stderr).toMatch(/not spooled \(cannot spool: EACCES/);
    hub.defaultReport = accept;
    const sent = await run([]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stderr).toMatch(
      /cannot take scan report .* out of the spool \(EACCES.*\): it will be sent again next time \(harmless\)/,
    );
    expect(sent.stderr.match(/uploaded scan report/g)).toHaveLength(2);
    expect(spooled(state)).toHaveLength(1);
    chmodSync(join(state, 'spool'), 0o700);
  });

  it('spools reports while the hub cannot be reached for enrolment, and sends them once enrolled', async () => {
    const { tree, state } = setup();
    const down = await downHub();
    const first = await agent(down, state, tree, ['--enrol', 'tok', '--format', 'json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/not enrolled yet: .*ECONNREFUSED.*spooled until enrolment succeeds/);
    const [early] = cycleOf(first.stdout).reports;
    expect(early?.result).toBe('spooled');
    expect(existsSync(join(state, 'credential'))).toBe(false);

    const hub = await fakeHub();
    const second = await agent(hub.url, state, tree, ['--enrol', 'tok']);
    expect(second.code, second.stderr).toBe(0);
    expect(hub.reports().map((r) => r.json?.reportId)[0]).toBe(early?.reportId);
    expect(hub.reports()).toHaveLength(2);
    expect(spooled(state)).toEqual([]);
  });

  it('ignores what a crash left half-written, and resends what an earlier run spooled first', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    expect((await agent(hub.url, state, tree, ['--enrol', 'tok'])).code).toBe(0);
    const earlier = { ...hub.reports()[0]?.json, reportId: '00000000-0000-4000-8000-000000000001' };
    writeFileSync(
      join(state, 'spool', `000000000000001-${earlier.reportId}.scan.json.gz`),
      gzipSync(JSON.stringify(earlier)),
    );
    writeFileSync(join(state, 'spool', '.tmp-0123456789abcdef'), gzipSync('{"reportId":"half'));
    writeFileSync(join(state, 'spool', 'not-a-report.txt'), 'left by someone');
    const run = await agent(hub.url, state, tree);
    expect(run.code, run.stderr).toBe(0);
    expect(
      hub
        .reports()
        .slice(1)
        .map((r) => r.json?.reportId)[0],
    ).toBe(earlier.reportId);
    expect(hub.reports()).toHaveLength(3);
    expect(readdirSync(join(state, 'spool'))).toEqual(['not-a-report.txt']);
  });

  it('loses no spooled report when killed with SIGKILL mid-upload: the next run resends it', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    hub.defaultReport = hub.hang;
    const child = spawn(
      process.execPath,
      [CLI, 'agent', '--hub', hub.url, '--state', state, '--enrol', 'tok', '--once', '--', tree],
      { stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await until(() => hub.reports().length === 1);
    child.kill('SIGKILL');
    await exited;
    const inFlight = hub.reports()[0]?.json?.reportId;
    expect(spooled(state)).toEqual([expect.stringContaining(`-${inFlight}.scan.json.gz`)]);

    hub.defaultReport = accept;
    const rerun = await agent(hub.url, state, tree, ['--format', 'json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    const resent = hub.reports().slice(1);
    expect(resent[0]?.json?.reportId).toBe(inFlight);
    expect(resent[0]?.body.equals(hub.reports()[0]?.body ?? Buffer.alloc(0))).toBe(true);
    expect(resent).toHaveLength(2);
    expect(spooled(state)).toEqual([]);
  });
});

describe('chainsweep agent: retries', () => {
  it('retries with backoff, never sooner than Retry-After', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    hub.reportAnswers = [status(503, { 'retry-after': '2' }), status(429), accept];
    const run = await agent(hub.url, state, tree, ['--enrol', 'tok']);
    expect(run.code, run.stderr).toBe(0);
    const [first, second, third] = hub.reports();
    expect(third?.json?.reportId).toBe(first?.json?.reportId);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1950);
    expect(run.stderr).toMatch(/HTTP 503: X: busy; retrying in 2\.0 s \(Retry-After\)/);
    expect(run.stderr).toMatch(/HTTP 429: X: busy; retrying in \d+ ms\n/);
    expect(spooled(state)).toEqual([]);
  });

  it('leaves the report spooled when the hub asks to wait longer than --max-retry-after', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    hub.defaultReport = status(503, { 'retry-after': '3600' });
    const run = await agent(hub.url, state, tree, ['--enrol', 'tok', '--max-retry-after', '1m']);
    expect(run.code, run.stderr).toBe(0);
    expect(hub.reports()).toHaveLength(1);
    expect(run.stderr).toMatch(/the hub asks to wait 3600 s \(Retry-After\); 1 reports stay spooled/);
    expect(spooled(state)).toHaveLength(1);
  });
});

describe('chainsweep agent: a report the hub fails on', () => {
  it('sends newer reports past one the hub answers 500 for, then rejects it after 10 such cycles', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    hub.defaultReport = status(500, {}, 'internal error');
    const first = await agent(hub.url, state, tree, ['--enrol', 'tok', '--retries', '0', '--format', 'json']);
    expect(first.code, first.stderr).toBe(0);
    const poison = cycleOf(first.stdout).reports[0]?.reportId;
    expect(spooled(state)).toHaveLength(1);
    // Nothing else was taken in that cycle: a hub failing on everything is down, not failing on this report.
    expect(existsSync(join(state, 'rejected')) ? readdirSync(join(state, 'rejected')) : []).toEqual([]);
    hub.defaultReport = (res, body) =>
      body?.reportId === poison ? status(500, {}, 'internal error')(res, body) : accept(res, body);
    const sent: string[] = [];
    for (let cycle = 1; cycle <= 10; cycle++) {
      const before = hub.reports().length;
      const run = await agent(hub.url, state, tree, ['--retries', '0', '--format', 'json']);
      expect(run.code, run.stderr).toBe(0);
      const made = cycleOf(run.stdout).reports[0];
      expect(made?.result).toBe('sent');
      sent.push(made?.reportId ?? '');
      // The failing report goes first, once a cycle; the new one after it.
      expect(
        hub
          .reports()
          .slice(before)
          .map((r) => r.json?.reportId),
      ).toEqual([poison, made?.reportId]);
      if (cycle < 10) {
        expect(spooled(state).filter((n) => n.endsWith('.json.gz'))).toEqual([
          expect.stringContaining(poison ?? '-'),
        ]);
        expect(run.stderr).toMatch(
          new RegExp(`report ${poison} failed on the hub \\(${cycle} of 10 cycles\\)`),
        );
      } else {
        expect(spooled(state)).toEqual([]);
        expect(run.stderr).toMatch(/failed on the hub in 10 cycles.*1 rejected in all/);
      }
    }
    const rejected = readdirSync(join(state, 'rejected'));
    expect(rejected).toContainEqual(expect.stringMatching(`-${poison}\\.scan\\.json\\.gz$`));
    const reason = JSON.parse(
      readFileSync(join(state, 'rejected', rejected.find((n) => n.endsWith('.reason.json')) ?? ''), 'utf8'),
    );
    expect(reason).toMatchObject({
      reportId: poison,
      status: 500,
      message: expect.stringContaining('internal error'),
    });
    expect(JSON.parse(readFileSync(join(state, 'counters.json'), 'utf8'))).toEqual({
      dropped: 0,
      rejected: 1,
    });
    expect(new Set(sent).size).toBe(10);
  });
});

describe('chainsweep agent: hunting logs', () => {
  it('hunts --logs each cycle and uploads that report too', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    const logs = tempTree({
      'named/queries.log':
        '29-Mar-2023 13:00:00.123 queries: info: client @0x1 10.6.6.6#53421 (akamaicontainer.com): query: akamaicontainer.com IN A + (10.0.0.1)\n',
    });
    const run = await agent(hub.url, state, tree, [
      '--enrol',
      'tok',
      '--logs',
      join(logs, 'named'),
      '--format',
      'json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/hunted 1 logs with 1 findings/);
    expect(hub.reports().map((r) => r.json?.command)).toEqual(['scan', 'hunt']);
    expect(hub.reports()[1]?.json?.findings).toHaveLength(1);
    expect(cycleOf(run.stdout).reports.map((r) => [r.command, r.result])).toEqual([
      ['scan', 'sent'],
      ['hunt', 'sent'],
    ]);
  });
});

describe('chainsweep agent: packs from the hub', () => {
  it("installs the hub feed's packs into its own store and scans with them; a feed that fails its check is logged and the cycle goes on", async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    const work = tempTree();
    const evil = 'trojanized build bytes';
    writeFileSync(join(tree, 'evil.bin'), evil);
    const keyPrefix = join(work, 'k');
    expect((await runCli(['packs', 'keygen', '--out', keyPrefix])).code).toBe(0);
    const src = join(work, 'src');
    mkdirSync(src);
    writeFileSync(
      join(src, 'manifest.json'),
      JSON.stringify({ id: 'acme-2026', title: 'ACME', references: [] }),
    );
    writeFileSync(
      join(src, 'indicators.json'),
      indicatorsFile([
        {
          id: 'acme.1',
          kind: 'sha256',
          value: createHash('sha256').update(evil).digest('hex'),
          title: 'ACME trojanized build',
          severity: 'critical',
          confidence: 'high',
        },
      ]),
    );
    const built = join(work, 'built');
    expect((await runCli(['packs', 'build', src, '--key', `${keyPrefix}.key`, '--out', built])).code).toBe(0);
    const feed = join(work, 'feed');
    const published = await runCli([
      'packs',
      'publish',
      built,
      '--key',
      `${keyPrefix}.key`,
      '--out',
      feed,
      '--base-url',
      `${hub.url}feed/`,
      '--keyring',
      `${keyPrefix}.keyring.json`,
    ]);
    expect(published.code, published.stderr).toBe(0);
    hub.feedDir = feed;

    const scanArgs = ['--keyring', `${keyPrefix}.keyring.json`];
    const run = await agent(hub.url, state, tree, ['--enrol', 'tok'], scanArgs);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/packs: installed acme-2026: installed #\d+/);
    expect(existsSync(join(state, 'packs', 'acme-2026', 'current.json'))).toBe(true);
    const found = (r?: Recorded) => (r?.json?.findings ?? []) as { indicatorId?: string; packId?: string }[];
    expect(found(hub.reports()[0])).toEqual([
      expect.objectContaining({ indicatorId: 'acme.1', packId: 'acme-2026' }),
    ]);

    // A feed index altered after signing: refused, the installed pack still used, the report still sent.
    writeFileSync(join(feed, 'latest.json'), `${readFileSync(join(feed, 'latest.json'), 'utf8')} `);
    const tampered = await agent(hub.url, state, tree, [], scanArgs);
    expect(tampered.code, tampered.stderr).toBe(0);
    expect(tampered.stderr).toMatch(
      /packs: feed refused: .*latest\.json does not match its signature.*; scanning with the packs already installed/,
    );
    expect(found(hub.reports()[1])).toEqual([expect.objectContaining({ indicatorId: 'acme.1' })]);
  });
});

describe('chainsweep agent: a hub that misbehaves, and stopping', () => {
  it('follows no redirect with its credential, and reads a bounded, one-line message from a flooding hub', async () => {
    const hub = await fakeHub();
    const other = await fakeHub();
    const { tree, state } = setup();
    hub.defaultReport = (res) => res.writeHead(307, { location: `${other.url}api/v1/reports` }).end();
    const redirected = await agent(hub.url, state, tree, ['--enrol', 'tok', '--retries', '0']);
    expect(redirected.code, redirected.stderr).toBe(0);
    expect(other.requests).toEqual([]);
    expect(redirected.stderr).toMatch(/waits: HTTP 307/);
    expect(spooled(state)).toHaveLength(1);

    hub.defaultReport = (res) =>
      res
        .writeHead(400, { 'content-type': 'text/plain' })
        .end(`bad\r\nchainsweep: forged line\u001b[2J${'x'.repeat(8 << 20)}`);
    const flooded = await agent(hub.url, state, tree);
    expect(flooded.code, flooded.stderr).toBe(0);
    expect(flooded.stderr).not.toMatch(/^chainsweep: forged line/m);
    expect(flooded.stderr).not.toContain('\u001b');
    const reasons = readdirSync(join(state, 'rejected')).filter((n) => n.endsWith('.reason.json'));
    expect(reasons).toHaveLength(2);
    for (const name of reasons) {
      const { message } = JSON.parse(readFileSync(join(state, 'rejected', name), 'utf8')) as {
        message: string;
      };
      expect(message.length).toBeLessThan(400);
    }
  });

  it('refuses an enrolment answer whose credential could forge a header, and gives up on a hub that stalls', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    hub.enrolAnswer = (res) =>
      res
        .writeHead(201, { 'content-type': 'application/json' })
        .end(JSON.stringify({ agentId: 'a', hostId: 'h', credential: 'abcdefgh\r\nX-Forged: 1' }));
    const forged = await agent(hub.url, state, tree, ['--enrol', 'tok']);
    expect(forged.code, forged.stderr).toBe(0);
    expect(forged.stderr).toMatch(
      /not enrolled yet: .*credential: must be 8 to 1024 printable ASCII characters/,
    );
    expect(existsSync(join(state, 'credential'))).toBe(false);

    // Headers, then a body that never ends: the request gives up after --timeout, enrolment and upload alike.
    hub.enrolAnswer = (res) => {
      res.writeHead(201, { 'content-type': 'application/json' }).write('{"agentId":');
      hub.hang(res, undefined);
    };
    const stalledEnrol = await agent(hub.url, state, tree, ['--enrol', 'tok', '--timeout', '1s']);
    expect(stalledEnrol.code, stalledEnrol.stderr).toBe(0);
    expect(stalledEnrol.stderr).toMatch(
      /not enrolled yet: .*the answer broke off: no complete answer within 1 s/,
    );
    hub.enrolAnswer = (res, body) =>
      res
        .writeHead(201, { 'content-type': 'application/json' })
        .end(
          JSON.stringify({ agentId: 'agent-1', hostId: body?.hostId, credential: 'cred-0123456789abcdef' }),
        );
    hub.defaultReport = (res) => {
      res.writeHead(202, { 'content-type': 'application/json' }).write('{"reportId":');
      hub.hang(res, undefined);
    };
    const stalledUpload = await agent(hub.url, state, tree, [
      '--enrol',
      'tok',
      '--timeout',
      '1s',
      '--retries',
      '0',
    ]);
    expect(stalledUpload.code, stalledUpload.stderr).toBe(0);
    expect(stalledUpload.stderr).toMatch(
      /waits: HTTP 202, then the answer broke off: no complete answer within 1 s/,
    );
    expect(spooled(state)).toHaveLength(3);
  });

  it('with --once, a pack that fails to load is exit 2; with --every, that cycle fails and the next one comes', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    const missing = join(tree, 'no-such-pack');
    const once = await agent(hub.url, state, tree, ['--enrol', 'tok'], ['--pack', missing]);
    expect(once.code).toBe(2);
    expect(once.stderr).toMatch(/no-such-pack/);
    const child = spawn(
      process.execPath,
      [
        CLI,
        'agent',
        '--hub',
        hub.url,
        '--state',
        state,
        '--every',
        '1h',
        '--format',
        'json',
        '--',
        tree,
        '--pack',
        missing,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let stdout = '';
    child.stderr?.on('data', (d) => (stderr += d));
    child.stdout?.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await until(() => stderr.includes('next cycle at'));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/cycle 1 failed: .*no-such-pack/);
    expect(JSON.parse(stdout)).toEqual({ cycle: 1, error: expect.stringContaining('no-such-pack') });
    expect(hub.reports()).toEqual([]);
  });

  it('on SIGTERM during an upload, finishes it and exits 0', async () => {
    const hub = await fakeHub();
    const { tree, state } = setup();
    hub.defaultReport = (res, body) => setTimeout(() => accept(res, body), 1500);
    const child = spawn(
      process.execPath,
      [CLI, 'agent', '--hub', hub.url, '--state', state, '--enrol', 'tok', '--every', '1h', '--', tree],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await until(() => hub.reports().length === 1);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/SIGTERM: stopping after the upload in flight\n.*uploaded scan report/);
    expect(stderr).not.toMatch(/next cycle at/);
    expect(spooled(state)).toEqual([]);
  });
});

/** Waits for `done()`, checking every 50 ms, up to 30 s. */
async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 50) {
    if (waited > 30_000) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
