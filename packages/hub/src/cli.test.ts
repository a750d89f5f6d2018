import { randomUUID } from 'node:crypto';
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createToken } from './auth/tokens.js';
import { scanReport } from './fleet/fleet-test-kit.js';
import { runHubCli, type ServeProcess, startServe } from './testing/run-hub-cli.js';
import { DIALECTS, openTestStore, TEST_POSTGRES_URL, type TestStore } from './testing/test-db.js';
import { seedOrg } from './testing/test-hub.js';

const PASSWORD = 'a long enough password';

/** The `--data` / `--db` options that reach a test store. */
function storeArgs(store: TestStore): string[] {
  const { dataDir, schema } = store.location;
  if (!schema) return ['--data', dataDir];
  const url = `${TEST_POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return ['--data', dataDir, '--db', url];
}

const oneLine = (text: string) => text.trim().split('\n').length === 1 && !/\n\s+at /.test(text);

describe.each(DIALECTS)('chainsweep hub and serve on %s', (dialect) => {
  let store: TestStore;
  let serve: ServeProcess | undefined;
  beforeEach(async () => {
    store = await openTestStore(dialect);
  });
  afterEach(async () => {
    if (serve && serve.child.exitCode === null) {
      serve.child.kill('SIGKILL');
      await serve.exited;
    }
    serve = undefined;
    await store.cleanup();
  });

  it('sets up an organisation, a user and tokens; a token is printed once and works until revoked', async () => {
    const hub = (args: string[], input?: string) => runHubCli(['hub', ...storeArgs(store), ...args], input);
    const org = await hub(['org', 'add', 'Acme']);
    expect(org).toMatchObject({ code: 0 });
    expect(org.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    const twice = await hub(['org', 'add', 'Acme']);
    expect(twice.code).toBe(2);
    expect(oneLine(twice.stderr)).toBe(true);
    expect((await hub(['org', 'list'])).stdout).toContain('\tAcme\t');

    expect(
      (await hub(['user', 'add', 'admin@acme.test', '--org', 'Acme', '--role', 'org-admin'], `${PASSWORD}\n`))
        .code,
    ).toBe(0);
    const empty = await hub(['user', 'add', 'e@acme.test', '--org', 'Acme', '--role', 'org-member'], '');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/stdin/);
    const short = await hub(
      ['user', 'add', 'e@acme.test', '--org', 'Acme', '--role', 'org-member'],
      'short\n',
    );
    expect(short.code).toBe(2);
    expect(oneLine(short.stderr)).toBe(true);
    const badRole = await hub(
      ['user', 'add', 'e@acme.test', '--org', 'Acme', '--role', 'root'],
      `${PASSWORD}\n`,
    );
    expect(badRole.code).toBe(2);

    const enrol = await hub([
      'token',
      'add',
      '--org',
      'Acme',
      '--kind',
      'enrol',
      '--expires',
      '1d',
      '--max-uses',
      '5',
    ]);
    expect(enrol.code).toBe(0);
    expect(enrol.stdout).toMatch(/^csw_enrol_[A-Za-z0-9_-]{43}\n$/);
    const token = enrol.stdout.trim();
    const api = await hub(['token', 'add', '--org', 'Acme', '--kind', 'api', '--role', 'org-admin']);
    expect(api.stdout).toMatch(/^csw_api_/);
    const list = await hub(['token', 'list', '--org', 'Acme']);
    expect(list.stdout.trim().split('\n').length).toBe(3);
    expect(list.stdout).not.toContain('csw_');
    const enrolId =
      list.stdout
        .split('\n')
        .find((line) => line.includes('\tenrol\t'))
        ?.split('\t')[0] ?? '';

    serve = await startServe([...storeArgs(store), '--listen', '127.0.0.1:0']);
    const enrolAt = (body: object) =>
      fetch(`${serve?.url}/api/v1/enrol`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const enrolled = await enrolAt({ token, hostId: 'host-1', hostname: 'pc-1' });
    expect(enrolled.status).toBe(201);
    const me = await fetch(`${serve.url}/api/v1/me`, {
      headers: { authorization: `Bearer ${api.stdout.trim()}` },
    });
    expect(await me.json()).toMatchObject({ principal: { kind: 'api', role: 'org-admin' } });
    const login = await fetch(`${serve.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ADMIN@acme.test', password: PASSWORD }),
    });
    expect(login.status).toBe(201);

    expect((await hub(['token', 'revoke', enrolId])).code).toBe(0);
    expect((await enrolAt({ token, hostId: 'host-2', hostname: 'pc-2' })).status).toBe(401);
    expect((await hub(['token', 'revoke', 'no-such-id'])).code).toBe(2);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    const logLines = serve
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('{'));
    expect(logLines.length).toBe(4);
    for (const line of logLines) expect(JSON.parse(line)).toMatchObject({ msg: 'request' });
    expect(serve.stderr()).not.toContain('csw_');
    expect(serve.stderr()).not.toContain(PASSWORD);
  });

  it('lists and revokes agents: a revoked credential gets 401 on its next upload', async () => {
    const hub = (args: string[]) => runHubCli(['hub', ...storeArgs(store), ...args]);
    expect((await hub(['org', 'add', 'Acme'])).code).toBe(0);
    expect((await hub(['org', 'add', 'Other'])).code).toBe(0);
    const token = (await hub(['token', 'add', '--org', 'Acme', '--kind', 'enrol'])).stdout.trim();
    serve = await startServe([...storeArgs(store), '--listen', '127.0.0.1:0']);
    const hostId = randomUUID();
    const enrolled = await fetch(`${serve.url}/api/v1/enrol`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, hostId, hostname: 'pc-1' }),
    });
    const agent = (await enrolled.json()) as { agentId: string; credential: string };
    const upload = () =>
      fetch(`${serve?.url}/api/v1/reports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${agent.credential}`, 'content-type': 'application/json' },
        body: JSON.stringify(scanReport({ hostId, hostname: 'pc-1' })),
      });
    expect((await upload()).status).toBe(202);

    const list = await hub(['agent', 'list', '--org', 'Acme']);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toBe('id\thost\thostname\tenrolled\tlast seen\trevoked');
    expect(lines).toHaveLength(2);
    expect(lines[1]?.split('\t').slice(0, 3)).toEqual([agent.agentId, hostId, 'pc-1']);
    expect(lines[1]?.split('\t')[4]).toMatch(/^\d{4}-/);
    expect(lines[1]?.endsWith('\t-')).toBe(true);
    expect(list.stdout).not.toContain('csw_');
    expect((await hub(['agent', 'list', '--org', 'Other'])).stdout.trim().split('\n')).toHaveLength(1);
    const missing = await hub(['agent', 'revoke', randomUUID()]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such agent/);
    expect((await hub(['agent', 'list'])).code).toBe(2);

    const revoked = await hub(['agent', 'revoke', agent.agentId]);
    expect(revoked).toMatchObject({ code: 0, stdout: '' });
    expect(revoked.stderr).toMatch(/agent revoked/);
    const refused = await upload();
    expect(refused.status).toBe(401);
    const after = (await hub(['agent', 'list', '--org', 'Acme'])).stdout.trim().split('\n')[1] ?? '';
    expect(after.split('\t')[5]).toMatch(/^\d{4}-/);
  });

  it('checks the data folder under serve with --db too', async () => {
    const loose = await mkdtemp(join(tmpdir(), 'chainsweep-hub-loose-'));
    await chmod(loose, 0o777);
    try {
      const run = await runHubCli([
        'serve',
        ...storeArgs(store).slice(2),
        '--data',
        loose,
        '--listen',
        '127.0.0.1:0',
      ]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/data folder/);
      expect(oneLine(run.stderr)).toBe(true);
    } finally {
      await rm(loose, { recursive: true, force: true });
    }
  });

  it('answers /healthz, and on SIGTERM finishes the request in flight, then exits 0', async () => {
    serve = await startServe([...storeArgs(store), '--listen', '127.0.0.1:0']);
    expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);
    const { port } = new URL(serve.url);
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        path: '/api/v1/enrol',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('{"token": "csw_enrol_unknown", ');
      // The request's headers are in; SIGTERM goes out while its body is still coming.
      setTimeout(async () => {
        serve?.child.kill('SIGTERM');
        await serve?.waitFor(/shutting down/);
        await expect(fetch(`${serve?.url}/healthz`)).rejects.toThrow();
        req.end('"hostId": "h", "hostname": "h"}');
      }, 300);
    });
    const res = await answer;
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'ENROL_REFUSED' } });
    expect(await serve.exited).toBe(0);
  });

  it('keeps every report it acknowledged when SIGKILLed during ingestion', async () => {
    const { orgId } = await seedOrg(store.db, 'Acme');
    serve = await startServe([...storeArgs(store), '--listen', '127.0.0.1:0']);
    const url = serve.url;
    const agents = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const token = (await createToken(store.db, { kind: 'all' }, { orgId, kind: 'enrol' }, new Date()))
          .token;
        const hostId = randomUUID().replaceAll('-', '');
        const res = await fetch(`${url}/api/v1/enrol`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token, hostId, hostname: `pc-${i}` }),
        });
        return (await res.json()) as { credential: string; hostId: string };
      }),
    );
    const acknowledged: string[] = [];
    let killed = false;
    const sendUntilKilled = async (agent: { credential: string; hostId: string }) => {
      while (!killed) {
        const reportId = randomUUID();
        try {
          const res = await fetch(`${url}/api/v1/reports`, {
            method: 'POST',
            headers: { authorization: `Bearer ${agent.credential}`, 'content-type': 'application/json' },
            body: JSON.stringify(scanReport({ hostId: agent.hostId, reportId, apps: 50, findings: 3 })),
          });
          if (res.status === 202) acknowledged.push(reportId);
        } catch {
          return; // the connection died with the server
        }
      }
    };
    const senders = agents.map(sendUntilKilled);
    while (acknowledged.length < 60) await new Promise((r) => setTimeout(r, 5));
    killed = true;
    serve.child.kill('SIGKILL');
    await serve.exited;
    await Promise.all(senders);
    serve = await startServe([...storeArgs(store), '--listen', '127.0.0.1:0']);
    expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);
    const stored = new Set(
      (await (await store.reopen()).all<{ report_id: string }>('SELECT report_id FROM reports')).map(
        (r) => r.report_id,
      ),
    );
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(60);
  });

  it('refuses a store newer than itself with one line and exit 2', async () => {
    await store.db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
      999,
      'future',
      new Date().toISOString(),
    ]);
    for (const args of [
      ['serve', ...storeArgs(store), '--listen', '127.0.0.1:0'],
      ['hub', ...storeArgs(store), 'org', 'list'],
    ]) {
      const run = await runHubCli(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/schema version 999, newer than this hub/);
      expect(oneLine(run.stderr)).toBe(true);
    }
  });
});

describe('chainsweep hub and serve usage', () => {
  it('exits 2 with one line when the data folder or its database is unusable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chainsweep-hub-bad-'));
    await writeFile(join(dir, 'file'), 'x');
    await mkdir(join(dir, 'junk'));
    await writeFile(
      join(dir, 'junk', 'hub.db'),
      'this is not a database, just some text that is long enough'.repeat(100),
    );
    try {
      for (const args of [
        ['hub', '--data', join(dir, 'file'), 'org', 'list'],
        ['serve', '--data', join(dir, 'file', 'sub'), '--listen', '127.0.0.1:0'],
        ['hub', '--data', join(dir, 'junk'), 'org', 'list'],
        ['hub', '--data', dir, '--db', 'postgres://postgres@127.0.0.1:1/test', 'org', 'list'],
      ]) {
        const run = await runHubCli(args);
        expect({ args, code: run.code }).toEqual({ args, code: 2 });
        expect(oneLine(run.stderr)).toBe(true);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('creates the data folder 0700 and hub.db with its -wal and -shm 0600, and tightens a looser hub.db', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chainsweep-hub-modes-'));
    const data = join(dir, 'new', 'data');
    let serving: ServeProcess | undefined;
    try {
      expect((await runHubCli(['hub', '--data', data, 'org', 'add', 'Acme'])).code).toBe(0);
      expect((await stat(data)).mode & 0o777).toBe(0o700);
      expect((await stat(join(data, 'hub.db'))).mode & 0o777).toBe(0o600);
      await chmod(join(data, 'hub.db'), 0o644);
      serving = await startServe(['--data', data, '--listen', '127.0.0.1:0']);
      expect((await fetch(`${serving.url}/healthz`)).status).toBe(200);
      for (const name of ['hub.db', 'hub.db-wal', 'hub.db-shm'])
        expect({ name, mode: (await stat(join(data, name))).mode & 0o777 }).toEqual({ name, mode: 0o600 });
    } finally {
      if (serving && serving.child.exitCode === null) {
        serving.child.kill('SIGKILL');
        await serving.exited;
      }
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unsafe data folder or hub.db with one line and exit 2, touching nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chainsweep-hub-unsafe-'));
    const folder = async (name: string, mode = 0o700) => {
      const path = join(dir, name);
      await mkdir(path);
      await chmod(path, mode);
      return path;
    };
    const victim = join(dir, 'victim');
    await writeFile(victim, 'precious\n');
    await chmod(victim, 0o644);
    const world = await folder('world', 0o777);
    const group = await folder('group', 0o770);
    const link = join(dir, 'link');
    await symlink(await folder('real'), link);
    const theirs = await folder('theirs');
    await chown(theirs, 12345, 12345);
    const dbLink = await folder('db-link');
    await symlink(victim, join(dbLink, 'hub.db'));
    const dangling = await folder('db-dangling');
    await symlink(join(dir, 'nowhere'), join(dangling, 'hub.db'));
    const dbFolder = await folder('db-folder');
    await mkdir(join(dbFolder, 'hub.db'));
    const walLink = await folder('wal-link');
    await symlink(victim, join(walLink, 'hub.db-wal'));
    const file = join(dir, 'afile');
    await writeFile(file, 'x');
    try {
      for (const [data, why] of [
        [world, /writ/],
        [group, /writ/],
        [link, /link/],
        [theirs, /uid 12345/],
        [dbLink, /hub\.db/],
        [dangling, /hub\.db/],
        [dbFolder, /hub\.db/],
        [walLink, /hub\.db-wal/],
        [file, /not a folder/],
        ['/dev/null', /not a folder/],
        ['/proc/self', /not a folder/],
      ] as const)
        for (const args of [
          ['hub', '--data', data, 'org', 'list'],
          ['serve', '--data', data, '--listen', '127.0.0.1:0'],
        ]) {
          const run = await runHubCli(args);
          expect({ args, code: run.code }).toEqual({ args, code: 2 });
          expect(run.stderr).toMatch(why);
          expect(oneLine(run.stderr)).toBe(true);
        }
      expect(await readFile(victim, 'utf8')).toBe('precious\n');
      expect((await stat(victim)).mode & 0o777).toBe(0o644);
      expect((await stat(world)).mode & 0o777).toBe(0o777);
      expect(await readdir(world)).toEqual([]);
      await expect(lstat(join(dir, 'nowhere'))).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 with one line for bad usage', async () => {
    const linked = await mkdtemp(join(tmpdir(), 'maildir-'));
    await symlink(tmpdir(), join(linked, 'new'));
    const mailServe = ['serve', '--data', '/tmp/x', '--smtp', 'smtp://mail.test', '--mail-from', 'a@b.test'];
    for (const args of [
      [...mailServe, '--mail-reply', 'r@b.test', '--mailbox', linked],
      ['serve'],
      ['serve', '--data', '/tmp/x', '--listen', 'nonsense'],
      ['serve', '--data', '/tmp/x', '--db', 'mysql://x'],
      ['serve', '--data', '/tmp/x', '--bogus'],
      ['serve', '--data', '/tmp/x', '--trust-proxy', 'proxy.example'],
      ['serve', '--data', '/tmp/x', '--mail-from', 'support@hub.test'],
      ['serve', '--data', '/tmp/x', '--smtp', 'http://mail.test'],
      ['serve', '--data', '/tmp/x', '--smtp', 'smtp://u:SECRET@mail.test/x', '--mail-from', 'a@b.test'],
      ['serve', '--data', '/tmp/x', '--smtp', 'smtp://mail.test'],
      ['serve', '--data', '/tmp/x', '--smtp', 'smtp://mail.test', '--mail-from', 'Support <a@b.test>'],
      ['serve', '--data', '/tmp/x', '--smtp', 'smtp://mail.test', '--mail-from', 'a@b.test\r\nBcc: x@y.test'],
      [...mailServe, '--mailbox', '/tmp/m'],
      [...mailServe, '--mail-reply', 'r+x@b.test', '--mailbox', '/tmp/m'],
      ['hub', '--data', '/tmp/x', 'org', 'remove', 'A'],
      ['hub', 'org', 'list'],
      ['hub', '--data', '/tmp/x', 'token', 'add', '--org', 'A', '--kind', 'api', '--expires', 'soon'],
    ]) {
      const run = await runHubCli(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(oneLine(run.stderr)).toBe(true);
      expect(run.stderr).not.toContain('SECRET');
    }
  });
});
