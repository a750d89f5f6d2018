import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runHubCli, type ServeProcess, startServe } from './testing/run-hub-cli.js';
import { DIALECTS, openTestStore, TEST_POSTGRES_URL, type TestStore } from './testing/test-db.js';

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

  it('exits 2 with one line for bad usage', async () => {
    for (const args of [
      ['serve'],
      ['serve', '--data', '/tmp/x', '--listen', 'nonsense'],
      ['serve', '--data', '/tmp/x', '--db', 'mysql://x'],
      ['serve', '--data', '/tmp/x', '--bogus'],
      ['serve', '--data', '/tmp/x', '--trust-proxy', 'proxy.example'],
      ['hub', '--data', '/tmp/x', 'org', 'remove', 'A'],
      ['hub', 'org', 'list'],
      ['hub', '--data', '/tmp/x', 'token', 'add', '--org', 'A', '--kind', 'api', '--expires', 'soon'],
    ]) {
      const run = await runHubCli(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(oneLine(run.stderr)).toBe(true);
    }
  });
});
