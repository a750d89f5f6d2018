import type { AppVerdict, InstalledApp } from 'chainsweep/core/app.js';
import { HttpError } from '../http/http-error.js';
import type { Db, SqlValue } from '../store/db.js';
import { scopeFilter } from '../store/scope-sql.js';
import type { Scope } from '../tenancy.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { type PlanFinding, remediationPlan } from './remediation-plan.js';
import { dayOf, parseJson } from './rows.js';
import { HOST_STATES, type HostState } from './states.js';

const MS_PER_DAY = 86_400_000;

/** Counts of hosts by state. */
export type StateCounts = Record<HostState, number>;

/** The fleet at a glance: hosts by state now, hosts flagged as clones, and the counts at the end of each day. */
export interface FleetSummary {
  total: number;
  counts: StateCounts;
  cloned: number;
  trend: { day: string; counts: StateCounts }[];
}

const zero = (): StateCounts => Object.fromEntries(HOST_STATES.map((s) => [s, 0])) as StateCounts;

/**
 * Counts by state and the daily trend of the last `days` days (today included): each day's counts are today's
 * minus the state changes recorded after that day, so the trend needs no per-day job and stays exact.
 */
export async function fleetSummary(db: Db, scope: Scope, now: Date, days: number): Promise<FleetSummary> {
  const where = scopeFilter(scope);
  const counts = zero();
  let total = 0;
  for (const row of await db.all<{ state: HostState; n: number }>(
    `SELECT state, COUNT(*) AS n FROM hosts WHERE ${where.sql} GROUP BY state`,
    where.params,
  )) {
    counts[row.state] = Number(row.n);
    total += Number(row.n);
  }
  const cloned = await db.get<{ n: number }>(
    `SELECT COUNT(*) AS n FROM hosts WHERE ${where.sql} AND cloned = 1`,
    where.params,
  );
  const today = dayOf(now.toISOString());
  const first = dayOf(new Date(now.getTime() - (days - 1) * MS_PER_DAY).toISOString());
  const changes = await db.all<{ day: string; from_state: HostState | null; to_state: HostState; n: number }>(
    `SELECT day, from_state, to_state, COUNT(*) AS n FROM host_state_changes
      WHERE ${where.sql} AND day > ? GROUP BY day, from_state, to_state`,
    [...where.params, first],
  );
  const byDay = new Map<string, typeof changes>();
  for (const change of changes) byDay.set(change.day, [...(byDay.get(change.day) ?? []), change]);
  const trend: FleetSummary['trend'] = [];
  let running = { ...counts };
  for (let i = 0; i < days; i++) {
    const day = dayOf(new Date(now.getTime() - i * MS_PER_DAY).toISOString());
    if (day > today) continue;
    trend.push({ day, counts: { ...running } });
    // The end of the previous day: undo this day's changes.
    running = { ...running };
    for (const change of byDay.get(day) ?? []) {
      running[change.to_state] -= Number(change.n);
      if (change.from_state) running[change.from_state] += Number(change.n);
    }
  }
  return { total, counts, cloned: Number(cloned?.n ?? 0), trend: trend.reverse() };
}

/** The filters of `GET /api/v1/hosts`. */
export interface HostFilters {
  state?: HostState;
  app?: string;
  version?: string;
  indicator?: string;
  pack?: string;
  q?: string;
}

/** One host in a list. */
export interface HostSummary {
  id: string;
  orgId: string;
  hostId: string;
  hostname: string;
  os: string | null;
  addresses: string[];
  state: HostState;
  stateSince: string;
  lastReportAt: string | null;
  cloned: boolean;
  reEnrolled: boolean;
}

type HostListRow = {
  id: string;
  org_id: string;
  claimed_host_id: string;
  hostname: string;
  hostname_key: string;
  os: string | null;
  addresses: string;
  state: HostState;
  state_since: string;
  last_report_at: string | null;
  cloned: number;
  re_enrolled: number;
};

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (ch) => `\\${ch}`);

function toSummary(row: HostListRow): HostSummary {
  return {
    id: row.id,
    orgId: row.org_id,
    hostId: row.claimed_host_id,
    hostname: row.hostname,
    os: row.os,
    addresses: parseJson<string[]>(row.addresses, []),
    state: row.state,
    stateSince: row.state_since,
    lastReportAt: row.last_report_at,
    cloned: row.cloned === 1,
    reEnrolled: row.re_enrolled === 1,
  };
}

/**
 * A page of hosts in `scope` matching `filters`, in a stable order (hostname, then id), with an opaque signed
 * cursor for the next page; a cursor is bound to the scope and the filters.
 */
export async function listHosts(
  db: Db,
  scope: Scope,
  filters: HostFilters,
  page: { limit: number; cursor?: string },
): Promise<{ hosts: HostSummary[]; nextCursor: string | null }> {
  const where = scopeFilter(scope, 'h.org_id');
  const conditions = [where.sql];
  const params: SqlValue[] = [...where.params];
  if (filters.state) {
    conditions.push('h.state = ?');
    params.push(filters.state);
  }
  if (filters.app !== undefined) {
    conditions.push(
      `EXISTS (SELECT 1 FROM host_apps a WHERE a.host_id = h.id AND a.name_key = ?${filters.version !== undefined ? ' AND a.version = ?' : ''})`,
    );
    params.push(filters.app.toLowerCase(), ...(filters.version !== undefined ? [filters.version] : []));
  }
  if (filters.indicator !== undefined) {
    conditions.push(
      'EXISTS (SELECT 1 FROM findings f WHERE f.host_id = h.id AND f.current = 1 AND f.indicator_id = ?)',
    );
    params.push(filters.indicator);
  }
  if (filters.pack !== undefined) {
    conditions.push(
      'EXISTS (SELECT 1 FROM findings f WHERE f.host_id = h.id AND f.current = 1 AND f.pack_id = ?)',
    );
    params.push(filters.pack);
  }
  if (filters.q !== undefined) {
    const like = `%${escapeLike(filters.q.toLowerCase())}%`;
    conditions.push(
      `(h.hostname_key LIKE ? ESCAPE '\\' OR h.claimed_host_id LIKE ? ESCAPE '\\'
        OR EXISTS (SELECT 1 FROM host_addresses ad WHERE ad.host_id = h.id AND ad.address LIKE ? ESCAPE '\\'))`,
    );
    params.push(like, like, like);
  }
  const binding = JSON.stringify([scope, filters]);
  if (page.cursor) {
    const [name, id] = await decodeCursor(db, page.cursor, binding);
    if (typeof name !== 'string' || typeof id !== 'string')
      throw new HttpError(400, 'INVALID_CURSOR', 'the cursor is not one this query gave', {
        field: 'cursor',
      });
    conditions.push('(h.hostname_key > ? OR (h.hostname_key = ? AND h.id > ?))');
    params.push(name, name, id);
  }
  const rows = await db.all<HostListRow>(
    `SELECT h.id, h.org_id, h.claimed_host_id, h.hostname, h.hostname_key, h.os, h.addresses, h.state,
            h.state_since, h.last_report_at, h.cloned, h.re_enrolled
       FROM hosts h WHERE ${conditions.join(' AND ')} ORDER BY h.hostname_key, h.id LIMIT ${page.limit + 1}`,
    params,
  );
  const more = rows.length > page.limit;
  const shown = rows.slice(0, page.limit);
  const last = shown.at(-1);
  return {
    hosts: shown.map(toSummary),
    nextCursor: more && last ? await encodeCursor(db, [last.hostname_key, last.id], binding) : null,
  };
}

/** Everything the hub knows of one host (central-hunt hits also once no longer current), with its remediation plan; undefined for an unknown id or another organisation's. */
export async function hostDetail(
  db: Db,
  scope: Scope,
  id: string,
): Promise<Record<string, unknown> | undefined> {
  const where = scopeFilter(scope);
  const host = await db.get<Record<string, SqlValue>>(`SELECT * FROM hosts WHERE id = ? AND ${where.sql}`, [
    id,
    ...where.params,
  ]);
  if (!host) return undefined;
  const org = [id, host.org_id as string];
  const apps = await db.all<{ app: string; verdicts: string; affected: number }>(
    'SELECT app, verdicts, affected FROM host_apps WHERE host_id = ? AND org_id = ? ORDER BY position',
    org,
  );
  const findings = await db.all<Record<string, SqlValue>>(
    `SELECT id, report_id, origin, fingerprint, kind, indicator_id, pack_id, pack_sequence, severity, title, subject,
            evidence, observed_at, current FROM findings
      WHERE host_id = ? AND org_id = ? AND (current = 1 OR origin = 'central-hunt') ORDER BY id LIMIT 1000`,
    org,
  );
  const reports = await db.all<Record<string, SqlValue>>(
    `SELECT r.id, r.report_id, r.origin, r.command, r.agent_id, r.hostname, r.received_at, r.started_at, r.finished_at,
            r.outcome, r.size_bytes, r.findings_count, r.packs
       FROM reports r WHERE r.org_id = ? AND (r.host_id = ? OR r.id IN (
         SELECT DISTINCT f.report_id FROM findings f WHERE f.host_id = ? AND f.origin = 'central-hunt'))
      ORDER BY r.received_at DESC LIMIT 100`,
    [host.org_id as string, id, id],
  );
  const agents = await db.all<Record<string, SqlValue>>(
    'SELECT agent_id, hostname, first_report_at, last_report_at, reports FROM host_agents WHERE host_id = ? AND org_id = ? ORDER BY first_report_at',
    org,
  );
  const events = await db.all<{ at: string; kind: string; detail: string }>(
    'SELECT at, kind, detail FROM host_events WHERE host_id = ? AND org_id = ? ORDER BY at DESC, id DESC LIMIT 100',
    org,
  );
  const states = await db.all<{
    at: string;
    from_state: string | null;
    to_state: string;
    report_id: string | null;
    evidence: string;
  }>(
    'SELECT at, from_state, to_state, report_id, evidence FROM host_state_changes WHERE host_id = ? AND org_id = ? ORDER BY at DESC, id DESC LIMIT 100',
    org,
  );
  const finding = (f: Record<string, SqlValue>) => ({
    id: f.id,
    reportId: f.report_id,
    origin: f.origin,
    fingerprint: f.fingerprint,
    kind: f.kind,
    indicatorId: f.indicator_id,
    packId: f.pack_id,
    packSequence: f.pack_sequence,
    severity: f.severity,
    title: f.title,
    subject: parseJson(f.subject, {}),
    evidence: parseJson(f.evidence, {}),
    observedAt: f.observed_at,
    current: Number(f.current) === 1,
  });
  const all = findings.map(finding);
  const inventory = apps.map((a) => parseJson<InstalledApp>(a.app, {} as InstalledApp));
  const verdicts = apps.flatMap((a) => parseJson<AppVerdict[]>(a.verdicts, []));
  const isLog = (f: { kind: SqlValue | undefined }) =>
    f.kind === 'domain' || f.kind === 'url' || f.kind === 'ip';
  return {
    ...toSummary(host as unknown as HostListRow),
    osFamily: host.os_family,
    osRelease: host.os_release,
    arch: host.arch,
    enrolledAt: host.enrolled_at,
    firstReportAt: host.first_report_at,
    evidence: parseJson(host.state_evidence, {}),
    identity: parseJson(host.identity_evidence, {}),
    inventory,
    verdicts,
    findings: all.filter((f) => f.current && !isLog(f)),
    // Central-hunt hits stay listed after a later clean scan (as history, not current): the host cannot erase them.
    huntHits: all.filter(isLog),
    reports: reports.map((r) => ({
      id: r.id,
      reportId: r.report_id,
      origin: r.origin,
      command: r.command,
      agentId: r.agent_id,
      hostname: r.hostname,
      receivedAt: r.received_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      outcome: r.outcome,
      sizeBytes: r.size_bytes,
      findings: r.findings_count,
      packs: parseJson(r.packs, []),
    })),
    agents: agents.map((a) => ({
      agentId: a.agent_id,
      hostname: a.hostname,
      firstReportAt: a.first_report_at,
      lastReportAt: a.last_report_at,
      reports: a.reports,
    })),
    events: events.map((e) => ({ at: e.at, kind: e.kind, detail: parseJson(e.detail, {}) })),
    remediation: remediationPlan(
      inventory,
      verdicts,
      all.filter((f) => f.current) as unknown as PlanFinding[],
    ),
    stateHistory: states.map((s) => ({
      at: s.at,
      from: s.from_state,
      to: s.to_state,
      reportId: s.report_id,
      evidence: parseJson(s.evidence, {}),
    })),
  };
}
