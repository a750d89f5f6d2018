import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../store/db.js';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import { enrolAgent, revokeAgent } from './agents.js';
import { takeLoginAttempt } from './login-limit.js';
import { createOrg, listOrgs } from './orgs.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { principalOfBearer, principalOfSession } from './principal.js';
import { endSession, login } from './sessions.js';
import { createToken, listTokens, revokeToken } from './tokens.js';
import { createUser, listUsers } from './users.js';

const NOW = new Date('2026-12-02T10:00:00.000Z');
const later = (ms: number) => new Date(NOW.getTime() + ms);
const PASSWORD = 'correct horse battery';

describe('passwords', () => {
  it('hashes with a fresh salt each time and verifies only the same password', async () => {
    const a = await hashPassword(PASSWORD);
    const b = await hashPassword(PASSWORD);
    expect(a.salt).not.toBe(b.salt);
    expect(a.hash).not.toBe(b.hash);
    expect(JSON.parse(a.params)).toMatchObject({ N: 32768, r: 8, p: 1 });
    expect(await verifyPassword(PASSWORD, a)).toBe(true);
    expect(await verifyPassword(`${PASSWORD} `, a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });
});

describe.each(DIALECTS)('tenancy store on %s', (dialect) => {
  let store: TestStore;
  let db: Db;
  let a: string;
  let b: string;
  beforeEach(async () => {
    store = await openTestStore(dialect);
    db = store.db;
    a = (await createOrg(db, { name: 'Org A' }, NOW)).id;
    b = (await createOrg(db, { name: 'Org B', staleDays: 3 }, NOW)).id;
  });
  afterEach(() => store.cleanup());

  it('refuses a second organisation of the same name, and scopes the list', async () => {
    await expect(createOrg(db, { name: 'Org A' }, NOW)).rejects.toMatchObject({ status: 409 });
    expect((await listOrgs(db, { kind: 'all' })).map((o) => o.name)).toEqual(['Org A', 'Org B']);
    expect(await listOrgs(db, { kind: 'org', orgId: b })).toEqual([
      { id: b, name: 'Org B', staleDays: 3, createdAt: NOW.toISOString() },
    ]);
  });

  it('creates users only in the scope, with unique emails, and signs them in', async () => {
    const scopeA = { kind: 'org', orgId: a } as const;
    await createUser(db, scopeA, { email: ' Ann@Example.com ', password: PASSWORD, role: 'org-admin' }, NOW);
    await expect(
      createUser(
        db,
        scopeA,
        { orgId: b, email: 'x@example.com', password: PASSWORD, role: 'org-member' },
        NOW,
      ),
    ).rejects.toMatchObject({ status: 404 });
    await expect(
      createUser(
        db,
        { kind: 'all' },
        { orgId: b, email: 'ann@example.com', password: PASSWORD, role: 'org-member' },
        NOW,
      ),
    ).rejects.toMatchObject({ status: 409, field: 'email' });
    await expect(
      createUser(db, scopeA, { email: 'short@example.com', password: 'short', role: 'org-member' }, NOW),
    ).rejects.toMatchObject({ status: 400, field: 'password' });
    expect((await listUsers(db, { kind: 'org', orgId: b })).length).toBe(0);
    expect((await listUsers(db, scopeA)).map((u) => u.email)).toEqual(['ann@example.com']);

    expect(await login(db, 'ann@example.com', 'wrong password!', NOW)).toBeUndefined();
    expect(await login(db, 'nobody@example.com', PASSWORD, NOW)).toBeUndefined();
    const session = await login(db, 'ann@example.com', PASSWORD, NOW);
    expect(session?.user).toMatchObject({ orgId: a, role: 'org-admin' });
    const resolved = await principalOfSession(db, session?.sessionId ?? '', NOW);
    expect(resolved?.principal).toMatchObject({ kind: 'user', orgId: a, role: 'org-admin' });
    expect(resolved?.csrfToken).toBe(session?.csrfToken);
    expect(await principalOfSession(db, session?.sessionId ?? '', later(13 * 3600_000))).toBeUndefined();
    await endSession(db, session?.sessionId ?? '');
    expect(await principalOfSession(db, session?.sessionId ?? '', NOW)).toBeUndefined();
  });

  it('issues API tokens shown once, stored hashed, expiring and revocable, only in the scope', async () => {
    const made = await createToken(db, { kind: 'org', orgId: a }, { kind: 'api', role: 'org-admin' }, NOW);
    expect(made.token).toMatch(/^csw_api_[A-Za-z0-9_-]{43}$/);
    expect(await principalOfBearer(db, made.token, NOW)).toEqual({
      kind: 'api',
      tokenId: made.info.id,
      orgId: a,
      role: 'org-admin',
    });
    expect(await principalOfBearer(db, `${made.token}x`, NOW)).toBeUndefined();
    const expiring = await createToken(
      db,
      { kind: 'all' },
      { orgId: a, kind: 'api', expiresAt: later(60_000).toISOString() },
      NOW,
    );
    expect(await principalOfBearer(db, expiring.token, later(59_000))).toMatchObject({ role: 'org-member' });
    expect(await principalOfBearer(db, expiring.token, later(60_000))).toBeUndefined();

    await expect(revokeToken(db, { kind: 'org', orgId: b }, made.info.id, NOW)).rejects.toMatchObject({
      status: 404,
    });
    expect(await principalOfBearer(db, made.token, NOW)).toBeDefined();
    await revokeToken(db, { kind: 'org', orgId: a }, made.info.id, NOW);
    expect(await principalOfBearer(db, made.token, NOW)).toBeUndefined();
    expect(await listTokens(db, { kind: 'org', orgId: b })).toEqual([]);
    const listed = await listTokens(db, { kind: 'org', orgId: a });
    expect(listed.map((t) => [t.kind, t.revokedAt])).toContainEqual(['api', NOW.toISOString()]);
    expect(JSON.stringify(listed)).not.toContain(made.token);
  });

  it('enrols agents with an enrolment token: a new credential each time, up to maxUses', async () => {
    const enrol = await createToken(db, { kind: 'org', orgId: a }, { kind: 'enrol', maxUses: 2 }, NOW);
    expect(enrol.token).toMatch(/^csw_enrol_/);
    expect(await principalOfBearer(db, enrol.token, NOW)).toBeUndefined();
    const first = await enrolAgent(db, { token: enrol.token, hostId: 'h-1', hostname: 'pc1' }, NOW);
    const again = await enrolAgent(db, { token: enrol.token, hostId: 'h-1', hostname: 'pc1' }, NOW);
    expect(first?.credential).toMatch(/^csw_agent_/);
    expect(again?.credential).not.toBe(first?.credential);
    expect(again?.agentId).not.toBe(first?.agentId);
    expect(await enrolAgent(db, { token: enrol.token, hostId: 'h-2', hostname: 'pc2' }, NOW)).toBeUndefined();
    expect(await principalOfBearer(db, first?.credential ?? '', NOW)).toEqual({
      kind: 'agent',
      agentId: first?.agentId,
      hostId: 'h-1',
      orgId: a,
    });
    await expect(revokeAgent(db, { kind: 'org', orgId: b }, first?.agentId ?? '', NOW)).rejects.toMatchObject(
      {
        status: 404,
      },
    );
    await revokeAgent(db, { kind: 'org', orgId: a }, first?.agentId ?? '', NOW);
    expect(await principalOfBearer(db, first?.credential ?? '', NOW)).toBeUndefined();
    expect(await principalOfBearer(db, again?.credential ?? '', NOW)).toBeDefined();
  });

  it('never enrols more agents than maxUses under concurrent enrolments', async () => {
    const other = await store.reopen();
    const enrol = await createToken(db, { kind: 'org', orgId: a }, { kind: 'enrol', maxUses: 3 }, NOW);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        enrolAgent(i % 2 ? db : other, { token: enrol.token, hostId: `h-${i}`, hostname: `pc${i}` }, NOW),
      ),
    );
    expect(results.filter(Boolean).length).toBe(3);
    expect(await db.get('SELECT COUNT(*) AS n FROM agents')).toEqual({ n: 3 });
  });

  it('refuses enrolment with a revoked or expired token', async () => {
    const revoked = await createToken(db, { kind: 'org', orgId: a }, { kind: 'enrol' }, NOW);
    await revokeToken(db, { kind: 'org', orgId: a }, revoked.info.id, NOW);
    expect(await enrolAgent(db, { token: revoked.token, hostId: 'h', hostname: 'h' }, NOW)).toBeUndefined();
    const expiring = await createToken(
      db,
      { kind: 'org', orgId: a },
      { kind: 'enrol', expiresAt: later(1000).toISOString() },
      NOW,
    );
    expect(
      await enrolAgent(db, { token: expiring.token, hostId: 'h', hostname: 'h' }, later(1000)),
    ).toBeUndefined();
    expect(await enrolAgent(db, { token: expiring.token, hostId: 'h', hostname: 'h' }, NOW)).toBeDefined();
  });

  it('counts sign-in attempts per key within a window, shared by two connections', async () => {
    const other = await store.reopen();
    for (let i = 0; i < 5; i++)
      expect(await takeLoginAttempt(i % 2 ? db : other, ['k'], later(i * 1000))).toEqual({ allowed: true });
    expect(await takeLoginAttempt(db, ['k'], later(60_000))).toEqual({
      allowed: false,
      retryAfterSeconds: 840,
    });
    expect(await takeLoginAttempt(other, ['other'], later(60_000))).toEqual({ allowed: true });
    expect(await takeLoginAttempt(other, ['k'], later(15 * 60_000))).toEqual({ allowed: true });
  });

  it('keeps no token, credential, session id or password in clear', async () => {
    await createUser(
      db,
      { kind: 'org', orgId: a },
      { email: 'a@example.com', password: PASSWORD, role: 'org-admin' },
      NOW,
    );
    const session = await login(db, 'a@example.com', PASSWORD, NOW);
    const api = await createToken(db, { kind: 'org', orgId: a }, { kind: 'api' }, NOW);
    const enrol = await createToken(db, { kind: 'org', orgId: a }, { kind: 'enrol' }, NOW);
    const agent = await enrolAgent(db, { token: enrol.token, hostId: 'h', hostname: 'h' }, NOW);
    const secrets = [
      PASSWORD,
      session?.sessionId,
      session?.csrfToken,
      api.token,
      enrol.token,
      agent?.credential,
    ];
    const secretParts = secrets.map((s) => String(s).replace(/^csw_[a-z]+_/, ''));
    let everything = '';
    if (dialect === 'sqlite') {
      await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      everything = (await readFile(join(store.location.dataDir, 'hub.db'))).toString('latin1');
    } else {
      for (const table of [
        'orgs',
        'users',
        'sessions',
        'api_tokens',
        'enrol_tokens',
        'agents',
        'login_attempts',
      ])
        everything += JSON.stringify(await db.all(`SELECT * FROM ${table}`));
    }
    expect(everything).toContain('a@example.com');
    for (const part of secretParts) expect(everything).not.toContain(part);
  });
});
