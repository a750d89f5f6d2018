import type { Finding } from 'chainsweep/core/finding.js';
import type { Report } from 'chainsweep/core/report.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import { type SeededOrg, seedOrg, type TestApp, testApp } from '../testing/test-hub.js';
import { cleanReport, enrol, getJson, logHit, newHostId, scanReport, upload } from './fleet-test-kit.js';

const DAY = 86_400_000;
const START = Date.parse('2026-11-20T12:00:00.000Z');

function affectedReport(hostId: string, finishedAt: string): Report {
  const base = cleanReport(hostId, { finishedAt });
  return {
    ...base,
    inventory: {
      os: 'windows',
      apps: [
        {
          name: '3CX Desktop App',
          version: '18.12.416',
          source: 'windows-programs',
          location: 'C:\\Users\\alice\\AppData\\Local\\Programs\\3CXDesktopApp\\3CXDesktopApp.exe',
        },
      ],
      verdicts: [
        {
          app: 0,
          packId: '3cx-2023',
          productId: '3cx-desktopapp-windows',
          product: '3CX Desktop App',
          verdict: 'affected',
          affected: ['18.12.416'],
          fixed: ['18.12.422'],
        },
      ],
    },
  };
}

function huntReport(hostId: string, findings: Finding[], finishedAt: string): Report {
  return {
    ...cleanReport(hostId, { finishedAt }),
    command: 'hunt',
    inventory: { os: 'linux', apps: [], verdicts: [] },
    findings,
  };
}

describe.each(DIALECTS)('fleet on %s', (dialect) => {
  let store: TestStore;
  let acme: SeededOrg;
  let other: SeededOrg;
  let clock: number;
  let hub: TestApp;
  const iso = (offsetDays = 0) => new Date(clock + offsetDays * DAY).toISOString();
  const hostRow = (claimed: string) =>
    store.db.get<{
      id: string;
      state: string;
      state_evidence: string;
      hostname: string;
      cloned: number;
      re_enrolled: number;
      identity_evidence: string;
    }>(
      'SELECT id, state, state_evidence, hostname, cloned, re_enrolled, identity_evidence FROM hosts WHERE claimed_host_id = ?',
      [claimed],
    );
  const token = () => acme.apiTokens['org-member'];

  beforeEach(async () => {
    store = await openTestStore(dialect);
    acme = await seedOrg(store.db, 'Acme');
    other = await seedOrg(store.db, 'Other');
    clock = START;
    hub = testApp(store.db, { now: () => new Date(clock) });
  });
  afterEach(() => store.cleanup());

  it('judges each state with its evidence, by precedence', async () => {
    const fresh = await enrol(hub.app, store.db, acme.orgId, newHostId(), 'fresh');
    expect((await hostRow(fresh.hostId))?.state).toBe('new');

    const a = await enrol(hub.app, store.db, acme.orgId, newHostId(), 'a');
    await upload(hub.app, a.credential, cleanReport(a.hostId, { finishedAt: iso() }));
    expect((await hostRow(a.hostId))?.state).toBe('clean');

    await upload(hub.app, a.credential, {
      ...cleanReport(a.hostId, { finishedAt: iso() }),
      outcome: 'partial',
    });
    const partial = await hostRow(a.hostId);
    expect(partial?.state).toBe('partial');
    expect(JSON.parse(partial?.state_evidence ?? '').partial.reason).toMatch(/partial/);

    clock += 1000;
    await upload(hub.app, a.credential, affectedReport(a.hostId, iso()));
    const affected = JSON.parse((await hostRow(a.hostId))?.state_evidence ?? '');
    expect(affected.state).toBe('affected');
    expect(affected.affected[0]).toMatchObject({
      app: '3CX Desktop App',
      version: '18.12.416',
      packId: '3cx-2023',
    });

    clock += 1000;
    const hits = {
      ...affectedReport(a.hostId, iso()),
      findings: scanReport({ hostId: a.hostId, findings: 2 }).findings,
    };
    await upload(hub.app, a.credential, hits);
    const withHits = JSON.parse((await hostRow(a.hostId))?.state_evidence ?? '');
    expect(withHits.state).toBe('hits');
    expect(withHits.counts).toMatchObject({ affected: 1, hits: 2 });
    expect(withHits.hits[0]).toMatchObject({
      indicatorId: 'sha256-0',
      packId: '3cx-2023',
      packSequence: 7,
      origin: 'agent',
    });

    clock += 1000;
    await upload(
      hub.app,
      a.credential,
      huntReport(a.hostId, [logHit(undefined, 'akamaicontainer.com', iso())], iso()),
    );
    const beaconed = JSON.parse((await hostRow(a.hostId))?.state_evidence ?? '');
    expect(beaconed.state).toBe('beaconed');
    expect(beaconed.beacons[0].log).toMatchObject({ file: '/var/log/dns.log', seen: 'akamaicontainer.com' });

    // A clean complete scan after the beacon clears everything.
    clock += 1000;
    await upload(hub.app, a.credential, cleanReport(a.hostId, { finishedAt: iso() }));
    expect((await hostRow(a.hostId))?.state).toBe('clean');
    // A report finished before the latest one (spooled, sent late) changes no facts.
    await upload(hub.app, a.credential, affectedReport(a.hostId, iso(-1)));
    expect((await hostRow(a.hostId))?.state).toBe('clean');
  });

  it('does not let a claimed future time keep a host beaconed past its next clean scan', async () => {
    const a = await enrol(hub.app, store.db, acme.orgId, newHostId(), 'a');
    const future = '2099-01-01T00:00:00.000Z';
    await upload(
      hub.app,
      a.credential,
      huntReport(a.hostId, [logHit(undefined, 'akamaicontainer.com', future)], future),
    );
    expect((await hostRow(a.hostId))?.state).toBe('beaconed');
    clock += 1000;
    await upload(hub.app, a.credential, cleanReport(a.hostId, { finishedAt: iso() }));
    expect((await hostRow(a.hostId))?.state).toBe('clean');
  });

  it('marks clean hosts stale after the organisation’s days, not before, and keeps affected ones affected', async () => {
    await store.db.run('UPDATE orgs SET stale_days = 2 WHERE id = ?', [acme.orgId]);
    const quiet = await enrol(hub.app, store.db, acme.orgId, newHostId(), 'quiet');
    const bad = await enrol(hub.app, store.db, acme.orgId, newHostId(), 'bad');
    const elsewhere = await enrol(hub.app, store.db, other.orgId, newHostId(), 'elsewhere');
    await upload(
      hub.app,
      quiet.credential,
      cleanReport(quiet.hostId, { hostname: 'quiet', finishedAt: iso() }),
    );
    await upload(hub.app, bad.credential, affectedReport(bad.hostId, iso()));
    await upload(hub.app, elsewhere.credential, cleanReport(elsewhere.hostId, { finishedAt: iso() }));
    clock += 1.5 * DAY;
    expect((await getJson(hub.app, token(), '/api/v1/hosts?state=stale')).body.hosts).toEqual([]);
    clock += 1 * DAY;
    const stale = (await getJson(hub.app, token(), '/api/v1/hosts?state=stale')).body.hosts;
    expect(stale.map((h: { hostname: string }) => h.hostname)).toEqual(['quiet']);
    const evidence = JSON.parse((await hostRow(quiet.hostId))?.state_evidence ?? '');
    expect(evidence.stale).toMatchObject({ staleDays: 2, since: new Date(START + 2 * DAY).toISOString() });
    expect((await hostRow(bad.hostId))?.state).toBe('affected');
    // The other organisation keeps the hub's default of 7 days.
    expect((await hostRow(elsewhere.hostId))?.state).toBe('clean');
    // A report brings it back.
    await upload(
      hub.app,
      quiet.credential,
      cleanReport(quiet.hostId, { hostname: 'quiet', finishedAt: iso() }),
    );
    expect((await hostRow(quiet.hostId))?.state).toBe('clean');
  });

  it('keeps one host through re-enrolment and renames, and flags a cloned image instead of merging it', async () => {
    const hostId = newHostId();
    const first = await enrol(hub.app, store.db, acme.orgId, hostId, 'pc-1');
    await upload(hub.app, first.credential, cleanReport(hostId, { hostname: 'pc-1', finishedAt: iso() }));
    clock += 1000;
    await upload(
      hub.app,
      first.credential,
      cleanReport(hostId, { hostname: 'pc-renamed', finishedAt: iso() }),
    );
    let row = await hostRow(hostId);
    expect(row?.hostname).toBe('pc-renamed');
    const second = await enrol(hub.app, store.db, acme.orgId, hostId, 'pc-renamed');
    clock += 1000;
    await upload(
      hub.app,
      second.credential,
      cleanReport(hostId, { hostname: 'pc-renamed', finishedAt: iso() }),
    );
    row = await hostRow(hostId);
    expect(row).toMatchObject({ re_enrolled: 1, cloned: 0 });
    expect(await store.db.all('SELECT COUNT(*) AS n FROM hosts WHERE claimed_host_id = ?', [hostId])).toEqual(
      [{ n: 1 }],
    );
    // The first credential reports again: two machines share the id.
    clock += 1000;
    await upload(hub.app, first.credential, cleanReport(hostId, { hostname: 'pc-clone', finishedAt: iso() }));
    row = await hostRow(hostId);
    expect(row?.cloned).toBe(1);
    const identity = JSON.parse(row?.identity_evidence ?? '');
    expect(identity.cloned.agents.map((a: { agentId: string }) => a.agentId).sort()).toEqual(
      [first.agentId, second.agentId].sort(),
    );
    expect(identity.cloned.agents.map((a: { hostname: string }) => a.hostname).sort()).toEqual([
      'pc-clone',
      'pc-renamed',
    ]);
    const detail = (await getJson(hub.app, token(), `/api/v1/hosts/${row?.id}`)).body;
    expect(detail.cloned).toBe(true);
    expect(detail.events.map((e: { kind: string }) => e.kind)).toEqual(
      expect.arrayContaining(['enrolled', 'renamed', 're-enrolled', 'cloned']),
    );
    expect(detail.events.find((e: { kind: string }) => e.kind === 'renamed').detail).toMatchObject({
      from: 'pc-1',
      to: 'pc-renamed',
    });
    expect(detail.agents).toHaveLength(2);
  });

  it('filters and pages hosts with a cursor bound to the organisation and the filters', async () => {
    const names = ['e', 'b', 'd', 'a', 'c'];
    for (const name of names) {
      const agent = await enrol(hub.app, store.db, acme.orgId, newHostId(), name);
      const report =
        name === 'c' || name === 'e'
          ? affectedReport(agent.hostId, iso())
          : cleanReport(agent.hostId, { finishedAt: iso() });
      await upload(hub.app, agent.credential, {
        ...report,
        host: { ...report.host, hostname: `host-${name}`, addresses: [`10.0.0.${names.indexOf(name) + 1}`] },
      });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { hosts: { hostname: string }[]; nextCursor: string | null } } =
        await getJson(
          hub.app,
          token(),
          `/api/v1/hosts?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
      expect(page.status).toBe(200);
      seen.push(...page.body.hosts.map((h) => h.hostname));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['host-a', 'host-b', 'host-c', 'host-d', 'host-e']);

    const names_ = async (query: string) =>
      ((await getJson(hub.app, token(), `/api/v1/hosts?${query}`)).body.hosts as { hostname: string }[]).map(
        (h) => h.hostname,
      );
    expect(await names_('state=affected')).toEqual(['host-c', 'host-e']);
    expect(await names_('app=3cx%20desktop%20app&version=18.12.416')).toEqual(['host-c', 'host-e']);
    expect(await names_('app=3CX%20Desktop%20App&version=18.12.422')).toEqual([]);
    expect(await names_('indicator=3cx-desktopapp-windows')).toEqual([]);
    expect(await names_('q=10.0.0.4')).toEqual(['host-a']);
    expect(await names_('q=HOST-B')).toEqual(['host-b']);
    expect(await names_('q=%25')).toEqual([]);
    for (const bad of ['q=%00', 'q=a%0Ab', 'state=clean&state=affected', 'q=a&q=b', 'limit=1&limit=500']) {
      const refused = await getJson(hub.app, token(), `/api/v1/hosts?${bad}`);
      expect(refused.status, bad).toBe(400);
      expect(refused.body.error.field, bad).toBe(bad.slice(0, bad.indexOf('=')));
    }

    const first = (await getJson(hub.app, token(), '/api/v1/hosts?limit=2')).body;
    const otherToken = other.apiTokens['org-member'];
    const stolen = await getJson(
      hub.app,
      otherToken,
      `/api/v1/hosts?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`,
    );
    expect(stolen.status).toBe(400);
    expect(stolen.body.error.field).toBe('cursor');
    const refiltered = await getJson(
      hub.app,
      token(),
      `/api/v1/hosts?limit=2&state=clean&cursor=${encodeURIComponent(first.nextCursor)}`,
    );
    expect(refiltered.status).toBe(400);
    const [payload, mac] = first.nextCursor.split('.');
    const forged = `${Buffer.from(JSON.stringify(['', ''])).toString('base64url')}.${mac}`;
    expect(payload).not.toBe(forged.split('.')[0]);
    expect((await getJson(hub.app, token(), `/api/v1/hosts?cursor=${forged}`)).status).toBe(400);

    const id = first.hosts[0].id;
    expect((await getJson(hub.app, otherToken, `/api/v1/hosts/${id}`)).status).toBe(404);
    expect((await getJson(hub.app, otherToken, '/api/v1/hosts')).body.hosts).toEqual([]);
    expect((await getJson(hub.app, otherToken, '/api/v1/fleet/summary')).body.total).toBe(0);
    const staff = await getJson(hub.app, other.apiTokens['vendor-staff'], `/api/v1/hosts/${id}`);
    expect(staff.status).toBe(200);
    expect(staff.body.inventory.length).toBeGreaterThan(0);
    expect((await getJson(hub.app, token(), '/api/v1/hosts?state=nope')).body.error.field).toBe('state');
  });

  it('counts hosts by state with a daily trend', async () => {
    const one = await enrol(hub.app, store.db, acme.orgId, newHostId(), 'one');
    const two = await enrol(hub.app, store.db, acme.orgId, newHostId(), 'two');
    await upload(hub.app, one.credential, cleanReport(one.hostId, { finishedAt: iso() }));
    clock += DAY;
    await upload(hub.app, two.credential, cleanReport(two.hostId, { finishedAt: iso() }));
    clock += DAY;
    await upload(hub.app, one.credential, affectedReport(one.hostId, iso()));
    const summary = (await getJson(hub.app, token(), '/api/v1/fleet/summary?days=4')).body;
    expect(summary.total).toBe(2);
    expect(summary.counts).toMatchObject({ affected: 1, clean: 1, new: 0 });
    const day = (offset: number) => new Date(START + offset * DAY).toISOString().slice(0, 10);
    expect(
      summary.trend.map((t: { day: string; counts: Record<string, number> }) => [
        t.day,
        t.counts.new,
        t.counts.clean,
        t.counts.affected,
      ]),
    ).toEqual([
      [day(-1), 0, 0, 0],
      [day(0), 1, 1, 0],
      [day(1), 0, 2, 0],
      [day(2), 0, 1, 1],
    ]);
  });

  it('attributes a central hunt’s hits to hosts by address and name, and lists the clients nobody claims', async () => {
    const alice = await enrol(hub.app, store.db, acme.orgId, newHostId(), 'ALICE-PC');
    const bob = await enrol(hub.app, store.db, acme.orgId, newHostId(), 'bob');
    const notMine = await enrol(hub.app, store.db, other.orgId, newHostId(), 'carol');
    const at = (agent: { hostId: string }, hostname: string, address: string) => {
      const r = cleanReport(agent.hostId, { finishedAt: iso() });
      return { ...r, host: { ...r.host, hostname, addresses: [address] } };
    };
    await upload(hub.app, alice.credential, at(alice, 'ALICE-PC', '10.1.1.1'));
    await upload(hub.app, bob.credential, at(bob, 'bob', 'fd00::0:1'));
    await upload(hub.app, notMine.credential, at(notMine, 'carol', '10.9.9.9'));
    clock += 1000;
    const hunt = huntReport(
      newHostId(),
      [
        logHit('alice-pc.corp.example', 'akamaicontainer.com', iso()),
        logHit('fd00::1', 'akamaicontainer.com', iso()),
        logHit('10.9.9.9', 'akamaicontainer.com', iso()),
        logHit(undefined, 'akamaicontainer.com', iso()),
      ],
      iso(),
    );
    const member = await upload(hub.app, acme.apiTokens['org-member'], hunt, { path: '/api/v1/hunts' });
    expect(member.status).toBe(403);
    const res = await upload(hub.app, acme.apiTokens['org-admin'], hunt, { path: '/api/v1/hunts' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as {
      attributed: { hostname: string; state: string }[];
      unattributed: { client: string }[];
      withoutClient: number;
    };
    expect(body.attributed.map((h) => [h.hostname, h.state]).sort()).toEqual([
      ['ALICE-PC', 'beaconed'],
      ['bob', 'beaconed'],
    ]);
    expect(body.unattributed.map((u) => u.client)).toEqual(['10.9.9.9']);
    expect(body.withoutClient).toBe(1);
    expect((await hostRow(notMine.hostId))?.state).toBe('clean');
    const evidence = JSON.parse((await hostRow(bob.hostId))?.state_evidence ?? '');
    expect(evidence.beacons[0]).toMatchObject({
      origin: 'central-hunt',
      log: { file: '/var/log/dns.log', seen: 'akamaicontainer.com' },
    });
    const again = await upload(hub.app, acme.apiTokens['org-admin'], hunt, { path: '/api/v1/hunts' });
    expect(((await again.json()) as { duplicate: boolean }).duplicate).toBe(true);
    expect(await store.db.all("SELECT COUNT(*) AS n FROM findings WHERE origin = 'central-hunt'")).toEqual([
      { n: 2 },
    ]);
    const detail = (await getJson(hub.app, token(), `/api/v1/hosts/${(await hostRow(alice.hostId))?.id}`))
      .body;
    expect(detail.huntHits[0].evidence.attribution).toMatchObject({
      client: 'alice-pc.corp.example',
      matchedBy: 'hostname',
    });
    expect(detail.reports.some((r: { origin: string }) => r.origin === 'central-hunt')).toBe(true);
  });
});
