import { createHash } from 'node:crypto';
import type { Finding } from 'chainsweep/core/finding.js';
import type { Report } from 'chainsweep/core/report.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import { type SeededOrg, seedOrg, type TestApp, testApp } from '../testing/test-hub.js';
import { cleanReport, enrol, getJson, logHit, newHostId, type TestAgent, upload } from './fleet-test-kit.js';

const START = Date.parse('2026-11-20T12:00:00.000Z');

/** A file hit whose fingerprint is sha256('z' + i), at `/x/i`. */
function hit(i: number): Finding {
  return {
    fingerprint: createHash('sha256').update(`z${i}`).digest('hex'),
    kind: 'check',
    indicatorId: 'pe-authenticode-appended-data',
    packId: 'chainsweep',
    severity: 'critical',
    confidence: 'high',
    title: 'Appended data after the Authenticode signature',
    subject: { path: `/x/${i}` },
    evidence: {},
    references: [],
  } as Finding;
}

describe.each(DIALECTS)('current findings on %s', (dialect) => {
  let store: TestStore;
  let acme: SeededOrg;
  let hub: TestApp;
  let clock: number;
  let agent: TestAgent;
  const iso = () => new Date(clock).toISOString();
  const detail = async (a: TestAgent = agent) => {
    const row = await store.db.get<{ id: string }>('SELECT id FROM hosts WHERE claimed_host_id = ?', [
      a.hostId,
    ]);
    return (await getJson(hub.app, acme.apiTokens['org-member'], `/api/v1/hosts/${row?.id}`)).body;
  };
  const paths = (hits: { path: string }[]) => hits.map((h) => h.path).sort();
  const send = async (findings: Finding[], times: Partial<Report> = {}, a: TestAgent = agent) => {
    clock += 50;
    const report = {
      ...cleanReport(a.hostId, { startedAt: iso(), finishedAt: iso(), ...times }),
      // The same file facts after the first report, as a host whose files did not change reports them.
      facts: {
        files: clock === START + 50 ? [] : [{ path: '/x/0', size: 1, sha256: 'a'.repeat(64) }],
        filesOmitted: 0,
      },
      findings,
    };
    const res = await upload(hub.app, a.credential, report);
    expect(res.status).toBe(202);
    return report;
  };

  beforeEach(async () => {
    store = await openTestStore(dialect);
    acme = await seedOrg(store.db, 'Acme');
    clock = START;
    hub = testApp(store.db, { now: () => new Date(clock) });
    agent = await enrol(hub.app, store.db, acme.orgId, newHostId(), 'desk-1');
    await send([]);
  });
  afterEach(() => store.cleanup());

  for (const [name, times] of [
    ['increasing times', () => ({})],
    ['start and finish equal to an earlier report’s', () => ({ startedAt: new Date(START).toISOString() })],
  ] as const)
    it(`holds exactly the latest sweep’s findings, one per fingerprint (${name})`, async () => {
      await send([hit(0)], times());
      expect(paths((await detail()).evidence.hits)).toEqual(['/x/0']);
      await send([hit(1)], times());
      let host = await detail();
      expect(paths(host.evidence.hits)).toEqual(['/x/1']);
      expect(paths(host.findings.map((f: { subject: { path: string } }) => f.subject))).toEqual(['/x/1']);
      await send([hit(0)], times());
      host = await detail();
      expect(paths(host.evidence.hits)).toEqual(['/x/0']);
      expect(host.evidence.counts.hits).toBe(1);
      await send([hit(0)], times());
      expect((await detail()).evidence.counts.hits).toBe(1);
      await send([hit(0), hit(0)], times());
      expect((await detail()).evidence.counts.hits).toBe(1);
      await send([], times());
      host = await detail();
      expect(host.evidence.hits).toEqual([]);
      expect(host.findings).toEqual([]);
      expect(host.state).toBe('clean');
    });

  it('counts 1,000 distinct findings as 1,000 after an earlier report with findings', async () => {
    await send([hit(5000)]);
    await send(Array.from({ length: 1000 }, (_, i) => hit(i)));
    expect((await detail()).evidence.counts.hits).toBe(1000);
  });

  it('keeps the latest sweep when a later upload started earlier but finished later', async () => {
    await send([hit(0)]);
    await send([hit(1)], { startedAt: new Date(START - 3_600_000).toISOString() });
    expect(paths((await detail()).evidence.hits)).toEqual(['/x/1']);
    // One finished before the latest (spooled, sent late) changes nothing.
    await send([hit(2)], { finishedAt: new Date(START).toISOString() });
    expect(paths((await detail()).evidence.hits)).toEqual(['/x/1']);
  });

  it('keeps central-hunt hits in the host detail, not current, after the host’s own clean scan', async () => {
    clock += 1000;
    const hunt = {
      ...cleanReport(newHostId(), { finishedAt: iso() }),
      command: 'hunt',
      inventory: { os: 'linux', apps: [], verdicts: [] },
      findings: [logHit('10.20.30.42', 'akamaicontainer.com', iso())],
    };
    const res = await upload(hub.app, acme.apiTokens['org-admin'], hunt, { path: '/api/v1/hunts' });
    expect(res.status).toBe(201);
    let host = await detail();
    expect(host.state).toBe('beaconed');
    expect(host.huntHits.map((h: { origin: string; current: boolean }) => [h.origin, h.current])).toEqual([
      ['central-hunt', true],
    ]);
    await send([]);
    host = await detail();
    expect(host.state).toBe('clean');
    expect(host.evidence.beacons).toEqual([]);
    expect(host.huntHits).toHaveLength(1);
    expect(host.huntHits[0]).toMatchObject({ origin: 'central-hunt', current: false });
    expect(host.huntHits[0].subject.log.client).toBe('10.20.30.42');
  });
});
