import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../store/db.js';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import { seedOrg, testApp } from '../testing/test-hub.js';
import { cleanReport, enrol, newHostId, scanReport, type TestAgent, upload } from './fleet-test-kit.js';

type ErrorBody = { error: { code: string; field?: string } };

const count = async (db: Db, sql: string, params: string[] = []) =>
  Number((await db.get<{ n: number }>(sql, params))?.n);

describe.each(DIALECTS)('report ingest on %s', (dialect) => {
  let store: TestStore;
  let orgId: string;
  let agent: TestAgent;
  beforeEach(async () => {
    store = await openTestStore(dialect);
    orgId = (await seedOrg(store.db, 'Acme')).orgId;
    agent = await enrol(testApp(store.db).app, store.db, orgId, newHostId(), 'desk-1');
  });
  afterEach(() => store.cleanup());

  it('stores a report once: a resend answers duplicate and changes nothing', async () => {
    const { app } = testApp(store.db);
    const report = scanReport({ hostId: agent.hostId, reportId: randomUUID() });
    const first = await upload(app, agent.credential, report);
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ reportId: report.reportId, hostId: agent.hostId, duplicate: false });
    const before = await store.db.all('SELECT state, state_since, last_report_at FROM hosts');
    const again = await upload(app, agent.credential, report, { gzip: true });
    expect(await again.json()).toEqual({ reportId: report.reportId, hostId: agent.hostId, duplicate: true });
    expect(await count(store.db, 'SELECT COUNT(*) AS n FROM reports')).toBe(1);
    expect(await count(store.db, 'SELECT COUNT(*) AS n FROM findings')).toBe(3);
    expect(await store.db.all('SELECT state, state_since, last_report_at FROM hosts')).toEqual(before);
  });

  it('refuses a report id another agent of the organisation already sent: 409 naming reportId', async () => {
    const { app } = testApp(store.db);
    const other = await enrol(app, store.db, orgId, newHostId(), 'desk-2');
    const reportId = randomUUID();
    expect((await upload(app, agent.credential, scanReport({ hostId: agent.hostId, reportId }))).status).toBe(
      202,
    );
    const taken = await upload(app, other.credential, cleanReport(other.hostId, { reportId }));
    expect(taken.status).toBe(409);
    expect(((await taken.json()) as ErrorBody).error).toMatchObject({
      code: 'REPORT_ID_CONFLICT',
      field: 'reportId',
    });
    expect(await count(store.db, 'SELECT COUNT(*) AS n FROM reports')).toBe(1);
    expect(await count(store.db, "SELECT COUNT(*) AS n FROM hosts WHERE state = 'new'")).toBe(1);
  });

  it('stores a report sent concurrently to two hub processes on one database once', async () => {
    const one = testApp(store.db).app;
    const two = testApp(await store.reopen()).app;
    const reports = Array.from({ length: 4 }, () =>
      scanReport({ hostId: agent.hostId, reportId: randomUUID() }),
    );
    const sends = reports.flatMap((r) =>
      [0, 1, 2, 3].map((i) => upload(i % 2 ? two : one, agent.credential, r)),
    );
    const answers = await Promise.all(
      sends.map(async (s) => (await s).json() as Promise<{ duplicate: boolean }>),
    );
    expect(answers.filter((a) => !a.duplicate)).toHaveLength(4);
    expect(await count(store.db, 'SELECT COUNT(*) AS n FROM reports')).toBe(4);
    expect(await count(store.db, 'SELECT COUNT(*) AS n FROM findings')).toBe(12);
    expect(await count(store.db, 'SELECT reports AS n FROM host_agents')).toBe(4);
    expect(await count(store.db, 'SELECT COUNT(*) AS n FROM hosts')).toBe(1);
  });

  it('inflates gzip with a bound: a small body that inflates past the limit is a 413', async () => {
    const { app } = testApp(store.db, { config: { maxReportBytes: 1024 * 1024 } });
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(100 * 1024);
    const res = await app.request('/api/v1/reports', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${agent.credential}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      body: bomb,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorBody).error.code).toBe('TOO_LARGE');
    const garbage = await upload(app, agent.credential, Buffer.from('not gzip at all'), { gzip: false });
    expect(garbage.status).toBe(400);
    const notGzip = await app.request('/api/v1/reports', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${agent.credential}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      body: 'plain',
    });
    expect(notGzip.status).toBe(400);
    expect(((await notGzip.json()) as ErrorBody).error.code).toBe('INVALID_GZIP');
    const brotli = await app.request('/api/v1/reports', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${agent.credential}`,
        'content-type': 'application/json',
        'content-encoding': 'br',
      },
      body: '{}',
    });
    expect(brotli.status).toBe(415);
    expect(await count(store.db, 'SELECT COUNT(*) AS n FROM reports')).toBe(0);
  });

  it('refuses 100,001 findings naming the field, and stores 100,000', async () => {
    const { app } = testApp(store.db, {
      config: { maxBodyBytes: 64 * 1024 * 1024, maxReportBytes: 128 * 1024 * 1024 },
    });
    const finding = scanReport({ hostId: agent.hostId, findings: 1 }).findings[0];
    const many = (n: number) => ({
      ...scanReport({ hostId: agent.hostId, reportId: randomUUID(), findings: 0 }),
      findings: Array.from({ length: n }, (_, i) => ({
        ...finding,
        fingerprint: i.toString(16).padStart(64, '0'),
      })),
    });
    const over = await upload(app, agent.credential, many(100_001), { gzip: true });
    expect(over.status).toBe(400);
    expect(((await over.json()) as ErrorBody).error).toMatchObject({
      code: 'TOO_MANY_FINDINGS',
      field: 'findings',
    });
    const at = await upload(app, agent.credential, many(100_000), { gzip: true });
    expect(at.status).toBe(202);
    expect(await count(store.db, 'SELECT COUNT(*) AS n FROM findings')).toBe(100_000);
    const evidence = JSON.parse(
      (await store.db.get<{ state_evidence: string }>('SELECT state_evidence FROM hosts'))?.state_evidence ??
        '{}',
    );
    expect(evidence.counts.hits).toBe(100_000);
    expect(evidence.hits.length).toBe(20);
  }, 180_000);

  it('answers 400 naming the field for a bad report, and for a host id that is not the agent’s', async () => {
    const { app } = testApp(store.db);
    const bad = { ...cleanReport(agent.hostId), findings: [{ kind: 'sha256' }] };
    const res = await upload(app, agent.credential, bad);
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.field).toMatch(/^findings\[0\]\./);
    const other = await upload(app, agent.credential, cleanReport(newHostId()));
    expect(res.status).toBe(400);
    expect(((await other.json()) as ErrorBody).error).toMatchObject({
      code: 'HOST_MISMATCH',
      field: 'host.hostId',
    });
    const invalidUtf8 = await upload(app, agent.credential, Buffer.from([0x7b, 0xff, 0x7d]));
    expect(invalidUtf8.status).toBe(400);
    const asUser = await app.request('/api/v1/reports', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(cleanReport(agent.hostId)),
    });
    expect(asUser.status).toBe(401);
    expect(await count(store.db, 'SELECT COUNT(*) AS n FROM reports')).toBe(0);
  });

  it('keeps the body of the latest reports only, gzip-compressed', async () => {
    const { app } = testApp(store.db);
    for (let i = 0; i < 12; i++) {
      const report = cleanReport(agent.hostId, {
        finishedAt: `2026-12-01T10:${String(i).padStart(2, '0')}:00.000Z`,
      });
      expect((await upload(app, agent.credential, report)).status).toBe(202);
    }
    expect(await count(store.db, 'SELECT COUNT(*) AS n FROM reports WHERE body IS NOT NULL')).toBe(10);
    const latest = await store.db.get<{ body: string }>(
      'SELECT body FROM reports ORDER BY observed_at DESC LIMIT 1',
    );
    const { gunzipSync } = await import('node:zlib');
    expect(JSON.parse(gunzipSync(Buffer.from(latest?.body ?? '', 'base64')).toString()).host.hostId).toBe(
      agent.hostId,
    );
  });

  it('keeps a host’s apps and addresses while reports repeat them, and replaces them when a newer one changes them', async () => {
    const { app } = testApp(store.db);
    const facts = async () => ({
      apps: await store.db.all(
        'SELECT position, name, version, verdicts, affected FROM host_apps WHERE host_id = (SELECT id FROM hosts) ORDER BY position',
      ),
      addresses: await store.db.all(
        'SELECT address FROM host_addresses WHERE host_id = (SELECT id FROM hosts) ORDER BY address',
      ),
      host: await store.db.get('SELECT addresses, state FROM hosts'),
    });
    const at = (minute: number) => `2026-12-01T10:0${minute}:00.000Z`;
    const first = cleanReport(agent.hostId, { finishedAt: at(1) });
    expect((await upload(app, agent.credential, first)).status).toBe(202);
    const stored = await facts();
    expect(stored.apps).toHaveLength(3);
    expect(stored.addresses).toEqual([{ address: '10.20.30.42' }]);
    expect(
      (await upload(app, agent.credential, cleanReport(agent.hostId, { finishedAt: at(2) }))).status,
    ).toBe(202);
    expect(await facts()).toEqual(stored);
    const changed = cleanReport(agent.hostId, { finishedAt: at(3) });
    changed.host = { ...changed.host, addresses: ['10.20.30.43', 'fd00::7'] };
    changed.inventory = {
      ...changed.inventory,
      apps: [
        ...changed.inventory.apps.slice(1),
        { name: '3CX Desktop App', version: '18.12.416', source: 'windows-uninstall', location: 'HKLM\\3CX' },
      ],
      verdicts: [
        {
          app: 2,
          packId: '3cx-2023',
          productId: '3cx-desktopapp-windows',
          product: '3CX Desktop App',
          verdict: 'affected',
          affected: ['18.12.416'],
          fixed: ['18.12.422'],
        },
      ],
    };
    expect((await upload(app, agent.credential, changed)).status).toBe(202);
    const now = await facts();
    expect(now.apps.map((a) => [a.name, a.affected])).toEqual([
      ['Example App 1', 0],
      ['Example App 2', 0],
      ['3CX Desktop App', 1],
    ]);
    expect(now.addresses).toEqual([{ address: '10.20.30.43' }, { address: 'fd00::7' }]);
    expect(now.host).toEqual({ addresses: '["10.20.30.43","fd00::7"]', state: 'affected' });
    // An older report (finished earlier) changes none of the latest facts.
    expect(
      (await upload(app, agent.credential, cleanReport(agent.hostId, { finishedAt: at(0) }))).status,
    ).toBe(202);
    expect(await facts()).toEqual(now);
  });
});
