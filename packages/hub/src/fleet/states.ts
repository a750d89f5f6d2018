import type { Db, SqlValue } from '../store/db.js';
import { dayOf, parseJson } from './rows.js';

/**
 * The states of a host, in precedence order: when several hold, the first wins. Evidence of compromise outranks
 * exposure, exposure outranks coverage, and silence never hides evidence: a host that stops reporting while
 * `affected` stays `affected`; only a `clean` or `partial` host becomes `stale`.
 */
export const HOST_STATES = ['beaconed', 'hits', 'affected', 'partial', 'stale', 'clean', 'new'] as const;
export type HostState = (typeof HOST_STATES)[number];

/** Finding kinds that come from log hunting (`beaconed`); `app` is `affected`; every other kind is a file `hit`. */
export const LOG_KINDS = ['domain', 'url', 'ip'] as const;
const LOG_KIND_SQL = LOG_KINDS.map((k) => `'${k}'`).join(', ');

/** Most items of each kind the state evidence lists (it counts them all). */
const EVIDENCE_ITEMS = 20;
const MS_PER_DAY = 86_400_000;

/** Why a host is in its state: the reports, findings, apps, pack sequences the state rests on. */
export interface StateEvidence {
  state: HostState;
  /** The state before staleness is considered. */
  base: HostState;
  appsReportId: string | null;
  sweepReportId: string | null;
  counts: { affected: number; hits: number; beacons: number };
  affected: Record<string, unknown>[];
  hits: Record<string, unknown>[];
  beacons: Record<string, unknown>[];
  partial?: { reason: string; reportId?: string | undefined };
  stale?: { lastReportAt: string; staleDays: number; since: string };
}

/** The columns of a host's row its state rests on. */
export type HostRow = {
  id: string;
  org_id: string;
  state: HostState;
  last_report_at: string | null;
  apps_report_id: string | null;
  files_report_id: string | null;
  sweep_report_id: string | null;
  cleared_at: string | null;
};

/** The organisation's stale days, else the hub's default. */
export async function staleDaysOf(tx: Db, orgId: string, fallback: number): Promise<number> {
  const row = await tx.get<{ stale_days: number | null }>('SELECT stale_days FROM orgs WHERE id = ?', [
    orgId,
  ]);
  return row?.stale_days ?? fallback;
}

/** When a host that last reported at `lastReportAt` becomes stale. */
export function staleAt(lastReportAt: string, staleDays: number): string {
  return new Date(Date.parse(lastReportAt) + staleDays * MS_PER_DAY).toISOString();
}

/** What ingest knows of the host it just wrote, so judging it reads nothing it has at hand. */
export interface IngestFacts {
  staleDays: number;
  /** False when the host holds no finding at all. */
  hasFindings: boolean;
  /** False when none of the host's stored apps has an `affected` verdict. */
  mayHaveAffectedApps: boolean;
  /** The report just stored. */
  report: { id: string; command: string; outcome: string };
  /** Columns of the host's row to set with its state, in the same update. */
  columns: Record<string, SqlValue>;
}

/**
 * Judges one host again from what the store holds: marks which of its findings are current (agent and
 * retro-hunt findings of its latest facts, hunt hits newer than its last clean scan), derives the state by
 * precedence, keeps the evidence, and records a state change (with its day, for the trend) when the state moved.
 * Runs inside the caller's transaction; `hostId` is the hub's id of the host (`hosts.id`).
 */
export async function recomputeHostState(
  tx: Db,
  orgId: string,
  hostId: string,
  now: Date = new Date(),
  options: { defaultStaleDays?: number; reportId?: string } = {},
): Promise<HostState | undefined> {
  const host = await tx.get<HostRow>(
    `SELECT id, org_id, state, last_report_at, apps_report_id, files_report_id, sweep_report_id, cleared_at
       FROM hosts WHERE id = ? AND org_id = ?`,
    [hostId, orgId],
  );
  if (!host) return undefined;
  const staleDays = await staleDaysOf(tx, orgId, options.defaultStaleDays ?? 7);
  return judgeHost(tx, host, now, staleDays, options.reportId ?? null);
}

/**
 * `recomputeHostState` for ingest: `host` is the host's row as the report leaves it (not yet written: `facts.columns`
 * are written with the state).
 */
export async function judgeIngestedHost(
  tx: Db,
  host: HostRow,
  now: Date,
  facts: IngestFacts,
): Promise<HostState> {
  return judgeHost(tx, host, now, facts.staleDays, facts.report.id, facts);
}

async function judgeHost(
  tx: Db,
  host: HostRow,
  now: Date,
  staleDays: number,
  reportId: string | null,
  facts?: IngestFacts,
): Promise<HostState> {
  if (facts?.hasFindings !== false) await markCurrentFindings(tx, host);
  const evidence = await gatherEvidence(tx, host, facts);
  const at = now.toISOString();
  if ((evidence.base === 'clean' || evidence.base === 'partial') && host.last_report_at) {
    const since = staleAt(host.last_report_at, staleDays);
    if (since <= at) {
      evidence.state = 'stale';
      evidence.stale = { lastReportAt: host.last_report_at, staleDays, since };
    }
  }
  await saveState(tx, host, evidence, evidence.stale?.since ?? at, reportId, facts?.columns);
  return evidence.state;
}

/**
 * Stores a host's state and evidence (with `columns`, more of the host's row, in the same update); a change of
 * state is also recorded in `host_state_changes`.
 */
export async function saveState(
  tx: Db,
  host: { id: string; org_id: string; state: HostState },
  evidence: StateEvidence,
  at: string,
  reportId: string | null,
  columns: Record<string, SqlValue> = {},
): Promise<void> {
  const changed = host.state !== evidence.state;
  const set: Record<string, SqlValue> = {
    ...columns,
    ...(changed ? { state: evidence.state, state_since: at } : {}),
    base_state: evidence.base,
    state_evidence: JSON.stringify(evidence),
  };
  const names = Object.keys(set);
  await tx.run(`UPDATE hosts SET ${names.map((name) => `${name} = ?`).join(', ')} WHERE id = ?`, [
    ...names.map((name) => set[name] as SqlValue),
    host.id,
  ]);
  if (!changed) return;
  await recordStateChange(tx, host.org_id, host.id, at, host.state, evidence.state, reportId, {
    counts: evidence.counts,
    ...(evidence.partial ? { partial: evidence.partial } : {}),
    ...(evidence.stale ? { stale: evidence.stale } : {}),
  });
}

/** One state change of one host, dated (its day feeds the organisation's daily trend). */
export async function recordStateChange(
  tx: Db,
  orgId: string,
  hostId: string,
  at: string,
  from: HostState | null,
  to: HostState,
  reportId: string | null,
  evidence: Record<string, unknown>,
): Promise<void> {
  await tx.run(
    `INSERT INTO host_state_changes (org_id, host_id, at, day, from_state, to_state, report_id, evidence)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [orgId, hostId, at, dayOf(at), from, to, reportId, JSON.stringify(evidence)],
  );
}

/**
 * Current: the apps report's app findings; the latest sweep's own file findings (an older report's agent findings
 * never linger); retro-hunt file findings of the files the latest facts rest on; hunt hits newer than the last
 * clean scan. One finding per fingerprint (the first stored), so a repeat is never counted twice.
 */
async function markCurrentFindings(tx: Db, host: HostRow): Promise<void> {
  await tx.run('UPDATE findings SET current = 0 WHERE host_id = ? AND org_id = ? AND current = 1', [
    host.id,
    host.org_id,
  ]);
  await tx.run(
    `UPDATE findings SET current = 1 WHERE id IN (
       SELECT MIN(id) FROM findings WHERE host_id = ? AND org_id = ? AND (
           (kind = 'app' AND report_id = ?)
        OR (kind IN (${LOG_KIND_SQL}) AND observed_at > ?)
        OR (kind <> 'app' AND kind NOT IN (${LOG_KIND_SQL}) AND (report_id = ?
              OR (origin = 'retro-hunt' AND report_id = ?))))
       GROUP BY fingerprint)`,
    [
      host.id,
      host.org_id,
      host.apps_report_id ?? '',
      host.cleared_at ?? '',
      host.sweep_report_id ?? '',
      host.files_report_id ?? '',
    ],
  );
}

type FindingRow = {
  id: number;
  report_id: string;
  origin: string;
  kind: string;
  indicator_id: string;
  pack_id: string;
  pack_sequence: number | null;
  severity: string;
  title: string;
  fingerprint: string;
  subject: string;
  evidence: string;
  observed_at: string;
};

const SEVERITY_ORDER = `CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END`;

/** How many current findings the host holds of each kind of evidence. */
async function currentCounts(
  tx: Db,
  host: HostRow,
): Promise<{ apps: number; hits: number; beacons: number }> {
  const row = await tx.get<{ n: number; apps: number | null; beacons: number | null }>(
    `SELECT COUNT(*) AS n, SUM(CASE WHEN kind = 'app' THEN 1 ELSE 0 END) AS apps,
            SUM(CASE WHEN kind IN (${LOG_KIND_SQL}) THEN 1 ELSE 0 END) AS beacons
       FROM findings WHERE host_id = ? AND org_id = ? AND current = 1`,
    [host.id, host.org_id],
  );
  const apps = Number(row?.apps ?? 0);
  const beacons = Number(row?.beacons ?? 0);
  return { apps, beacons, hits: Number(row?.n ?? 0) - apps - beacons };
}

async function currentFindings(
  tx: Db,
  host: HostRow,
  count: number,
  condition: string,
): Promise<{ count: number; rows: FindingRow[] }> {
  const rows = count
    ? await tx.all<FindingRow>(
        `SELECT id, report_id, origin, kind, indicator_id, pack_id, pack_sequence, severity, title, fingerprint,
                subject, evidence, observed_at
           FROM findings WHERE host_id = ? AND org_id = ? AND current = 1 AND ${condition}
          ORDER BY ${SEVERITY_ORDER}, id LIMIT ${EVIDENCE_ITEMS}`,
        [host.id, host.org_id],
      )
    : [];
  return { count, rows };
}

function findingEvidence(row: FindingRow): Record<string, unknown> {
  const subject = parseJson<{ path?: string; app?: { name?: string; version?: string }; log?: unknown }>(
    row.subject,
    {},
  );
  return {
    findingId: row.id,
    reportId: row.report_id,
    origin: row.origin,
    kind: row.kind,
    indicatorId: row.indicator_id,
    packId: row.pack_id,
    packSequence: row.pack_sequence,
    severity: row.severity,
    title: row.title,
    observedAt: row.observed_at,
    ...(subject.path !== undefined ? { path: subject.path } : {}),
    ...(subject.app ? { app: subject.app.name, version: subject.app.version } : {}),
    ...(subject.log ? { log: subject.log } : {}),
  };
}

async function gatherEvidence(tx: Db, host: HostRow, facts?: IngestFacts): Promise<StateEvidence> {
  const counts =
    facts?.hasFindings === false ? { apps: 0, hits: 0, beacons: 0 } : await currentCounts(tx, host);
  const apps = await currentFindings(tx, host, counts.apps, `kind = 'app'`);
  const hits = await currentFindings(
    tx,
    host,
    counts.hits,
    `kind <> 'app' AND kind NOT IN (${LOG_KIND_SQL})`,
  );
  const beacons = await currentFindings(tx, host, counts.beacons, `kind IN (${LOG_KIND_SQL})`);
  const affected = apps.rows.map(findingEvidence);
  // Verdicts the report carried for apps without an app finding (the finding is the usual carrier).
  const verdictApps =
    affected.length > 0 || facts?.mayHaveAffectedApps === false
      ? []
      : await tx.all<{ name: string; version: string; location: string; verdicts: string }>(
          'SELECT name, version, location, verdicts FROM host_apps WHERE host_id = ? AND org_id = ? AND affected = 1 ORDER BY position LIMIT ?',
          [host.id, host.org_id, EVIDENCE_ITEMS],
        );
  if (affected.length === 0)
    for (const app of verdictApps) {
      const verdict = parseJson<{ packId?: string; productId?: string; verdict?: string }[]>(
        app.verdicts,
        [],
      ).find((v) => v.verdict === 'affected');
      affected.push({
        reportId: host.apps_report_id,
        origin: 'agent',
        app: app.name,
        version: app.version,
        location: app.location,
        packId: verdict?.packId,
        productId: verdict?.productId,
      });
    }
  const affectedCount = apps.count || (affected.length ? await countAffectedApps(tx, host) : 0);
  const evidence: StateEvidence = {
    state: 'clean',
    base: 'clean',
    appsReportId: host.apps_report_id,
    sweepReportId: host.sweep_report_id,
    counts: { affected: affectedCount, hits: hits.count, beacons: beacons.count },
    affected,
    hits: hits.rows.map(findingEvidence),
    beacons: beacons.rows.map(findingEvidence),
  };
  const partial = await partialReason(tx, host, facts?.report);
  if (partial) evidence.partial = partial;
  evidence.base =
    beacons.count > 0
      ? 'beaconed'
      : hits.count > 0
        ? 'hits'
        : affectedCount > 0
          ? 'affected'
          : !host.last_report_at
            ? 'new'
            : partial
              ? 'partial'
              : 'clean';
  evidence.state = evidence.base;
  return evidence;
}

async function countAffectedApps(tx: Db, host: HostRow): Promise<number> {
  const row = await tx.get<{ n: number }>(
    'SELECT COUNT(*) AS n FROM host_apps WHERE host_id = ? AND org_id = ? AND affected = 1',
    [host.id, host.org_id],
  );
  return Number(row?.n ?? 0);
}

/**
 * Why the host's coverage is incomplete, or undefined when its latest scan was complete; `known` is a report whose
 * command and outcome need not be read.
 */
async function partialReason(
  tx: Db,
  host: HostRow,
  known?: { id: string; command: string; outcome: string },
): Promise<StateEvidence['partial']> {
  if (!host.sweep_report_id) return { reason: 'no file sweep (scan) report yet' };
  const ids = [host.sweep_report_id, host.apps_report_id ?? host.sweep_report_id];
  const rows =
    known && ids.every((id) => id === known.id)
      ? [known]
      : await tx.all<{ id: string; command: string; outcome: string }>(
          'SELECT id, command, outcome FROM reports WHERE id IN (?, ?) AND org_id = ?',
          [...ids, host.org_id],
        );
  const incomplete = rows.find((r) => r.outcome !== 'complete');
  return incomplete
    ? { reason: `the latest ${incomplete.command} was partial`, reportId: incomplete.id }
    : undefined;
}
