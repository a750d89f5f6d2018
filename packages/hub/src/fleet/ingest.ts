import { randomUUID } from 'node:crypto';
import type { Finding } from 'chainsweep/core/finding.js';
import type { Report } from 'chainsweep/core/report.js';
import { HttpError } from '../http/http-error.js';
import type { Db, SqlValue } from '../store/db.js';
import { fileFactsOf, replaceHostAddresses, replaceHostApps, replaceHostFiles } from './host-facts.js';
import { findOrCreateHost, type HostIdentity, noteReporter } from './host-identity.js';
import { insertRows, lockOf, notAfter } from './rows.js';
import { judgeIngestedHost, recordStateChange, staleAt } from './states.js';

/** How many of a host's latest reports keep their body; older ones keep only their metadata and findings. */
export const KEPT_REPORT_BODIES = 10;

/** What the agent contract answers for an accepted report. */
export interface IngestResult {
  reportId: string;
  hostId: string;
  duplicate: boolean;
}

/** One validated report from an agent, with its body as stored (gzip). */
export interface AgentReport {
  orgId: string;
  agentId: string;
  /** The host id the agent enrolled with; the report must claim the same. */
  enrolledHostId: string;
  report: Report;
  sizeBytes: number;
  gzipBody: Buffer;
}

const FINDING_COLUMNS = [
  'org_id',
  'host_id',
  'report_id',
  'origin',
  'fingerprint',
  'kind',
  'indicator_id',
  'pack_id',
  'pack_sequence',
  'severity',
  'title',
  'subject',
  'evidence',
  'observed_at',
  'created_at',
];

/** The columns of one finding row (values in `FINDING_COLUMNS` order). */
export function findingRow(
  finding: Finding,
  at: {
    orgId: string;
    hostId: string;
    reportRowId: string;
    origin: 'agent' | 'central-hunt';
    observedAt: string;
    receivedAt: string;
    packSequence: number | null;
    fingerprint?: string;
    evidence?: Record<string, unknown>;
  },
): SqlValue[] {
  const logTime = finding.subject.log?.timestamp;
  return [
    at.orgId,
    at.hostId,
    at.reportRowId,
    at.origin,
    at.fingerprint ?? finding.fingerprint,
    finding.kind,
    finding.indicatorId,
    finding.packId,
    at.packSequence,
    finding.severity,
    finding.title,
    JSON.stringify(finding.subject),
    JSON.stringify(at.evidence ?? finding.evidence),
    finding.subject.log ? notAfter(logTime, at.observedAt) : at.observedAt,
    at.receivedAt,
  ];
}

/** Inserts finding rows. */
export async function insertFindings(tx: Db, rows: SqlValue[][]): Promise<void> {
  await insertRows(tx, 'findings', FINDING_COLUMNS, rows);
}

/** The sequence each pack of a report had, by pack id. */
export function packSequences(report: Report): Map<string, number> {
  return new Map(
    report.packs.flatMap((p) => (p.sequence === undefined ? [] : [[p.id, p.sequence] as const])),
  );
}

/**
 * Stores one agent report in one transaction: idempotent on `reportId` within the organisation (a resend by the
 * same agent changes nothing and answers `duplicate: true`, also across hub processes on one PostgreSQL; the
 * same id from another agent is a 409), the host found by
 * the id it claims, the reporter judged (re-enrolment, clone, rename), the latest facts replaced when this is the
 * newest report of its kind, the findings kept, and the host's state judged again.
 */
export async function ingestReport(
  db: Db,
  input: AgentReport,
  now: Date,
  defaultStaleDays: number,
): Promise<IngestResult> {
  const { report, orgId } = input;
  if (report.host.hostId !== input.enrolledHostId)
    throw new HttpError(400, 'HOST_MISMATCH', 'host.hostId is not the host id this agent enrolled with', {
      field: 'host.hostId',
    });
  const result: IngestResult = { reportId: report.reportId, hostId: report.host.hostId, duplicate: true };
  return db.transaction(
    async (tx) => {
      const seen = await tx.get<{ agent_id: string | null }>(
        'SELECT agent_id FROM reports WHERE org_id = ? AND report_id = ?',
        [orgId, report.reportId],
      );
      if (seen && seen.agent_id !== input.agentId)
        throw new HttpError(
          409,
          'REPORT_ID_CONFLICT',
          'another agent already sent a report with this reportId',
          {
            field: 'reportId',
          },
        );
      if (seen) return result;
      await storeReport(tx, input, now, defaultStaleDays);
      return { ...result, duplicate: false };
    },
    // One host's reports one at a time (SERIALIZABLE keeps the rest right; this spares it the retries).
    { lock: lockOf(`${orgId}:${report.host.hostId}`) },
  );
}

/** The host row as ingest needs it, with its organisation's stale days and what its stored reports hold. */
type IngestHost = HostIdentity & {
  apps_report_id: string | null;
  files_report_id: string | null;
  sweep_report_id: string | null;
  cleared_at: string | null;
  first_report_at: string | null;
  addresses: string | null;
  apps_digest: string | null;
  files_digest: string | null;
  stale_days: number | null;
  /** When its newest report, its apps report and its sweep report were observed. */
  newest_at: string | null;
  apps_at: string | null;
  sweep_at: string | null;
  /** Observed time of its ninth newest report (null with fewer): when set, this report may retire a body. */
  ninth_at: string | null;
  has_findings: number;
};

async function ingestHost(tx: Db, orgId: string, claimedHostId: string): Promise<IngestHost | undefined> {
  return tx.get<IngestHost>(
    `SELECT h.id, h.org_id, h.claimed_host_id, h.hostname, h.state, h.last_agent_id, h.last_report_at, h.cloned,
            h.apps_report_id, h.files_report_id, h.sweep_report_id, h.cleared_at, h.first_report_at, h.addresses, h.apps_digest,
            h.files_digest, o.stale_days,
            (SELECT MAX(observed_at) FROM reports WHERE host_id = h.id) AS newest_at,
            (SELECT observed_at FROM reports WHERE id = h.apps_report_id) AS apps_at,
            (SELECT observed_at FROM reports WHERE id = h.sweep_report_id) AS sweep_at,
            (SELECT observed_at FROM reports WHERE host_id = h.id
              ORDER BY observed_at DESC LIMIT 1 OFFSET ${KEPT_REPORT_BODIES - 2}) AS ninth_at,
            CASE WHEN EXISTS (SELECT 1 FROM findings WHERE host_id = h.id) THEN 1 ELSE 0 END AS has_findings
       FROM hosts h JOIN orgs o ON o.id = h.org_id WHERE h.org_id = ? AND h.claimed_host_id = ?`,
    [orgId, claimedHostId],
  );
}

/** The host a report claims, made when the organisation has never heard of it. */
async function hostOf(tx: Db, input: AgentReport, at: string): Promise<IngestHost> {
  const { orgId, report } = input;
  const found = await ingestHost(tx, orgId, report.host.hostId);
  if (found) return found;
  await findOrCreateHost(tx, {
    orgId,
    claimedHostId: report.host.hostId,
    hostname: report.host.hostname,
    at,
  });
  return (await ingestHost(tx, orgId, report.host.hostId)) as IngestHost;
}

async function storeReport(tx: Db, input: AgentReport, now: Date, defaultStaleDays: number): Promise<void> {
  const { report, orgId } = input;
  const receivedAt = now.toISOString();
  const observedAt = notAfter(report.finishedAt, receivedAt);
  const host = await hostOf(tx, input, receivedAt);
  const staleDays = host.stale_days ?? defaultStaleDays;
  await catchUpStale(tx, host, staleDays, receivedAt);
  const newest = !host.newest_at || observedAt >= host.newest_at;
  const newestApps = report.command !== 'hunt' && (!host.apps_at || observedAt >= host.apps_at);
  const newestSweep = report.command === 'scan' && (!host.sweep_at || observedAt >= host.sweep_at);
  const rowId = randomUUID();
  await tx.run(
    `INSERT INTO reports (id, org_id, report_id, host_id, agent_id, origin, command, tool_version, hostname,
       received_at, started_at, finished_at, observed_at, outcome, size_bytes, findings_count, packs, coverage,
       body, body_encoding)
     VALUES (?, ?, ?, ?, ?, 'agent', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'gzip-base64')`,
    [
      rowId,
      orgId,
      report.reportId,
      host.id,
      input.agentId,
      report.command,
      report.tool.version,
      report.host.hostname,
      receivedAt,
      report.startedAt,
      report.finishedAt,
      observedAt,
      report.outcome,
      input.sizeBytes,
      report.findings.length,
      JSON.stringify(report.packs.map((p) => ({ id: p.id, sequence: p.sequence ?? null, signed: p.signed }))),
      JSON.stringify(
        report.coverage.map((c) => ({ name: c.name, outcome: c.outcome, problems: c.problemCount })),
      ),
      input.gzipBody.toString('base64'),
    ],
  );
  const columns = await noteReporter(tx, host, {
    agentId: input.agentId,
    hostname: report.host.hostname,
    at: receivedAt,
    reportId: report.reportId,
    newest,
  });
  Object.assign(
    columns,
    await storeFacts(tx, host, rowId, report, { newest, newestApps, newestSweep, observedAt }),
  );
  const sequences = packSequences(report);
  await insertFindings(
    tx,
    report.findings.map((finding) =>
      findingRow(finding, {
        orgId,
        hostId: host.id,
        reportRowId: rowId,
        origin: 'agent',
        observedAt,
        receivedAt,
        packSequence: sequences.get(finding.packId) ?? null,
      }),
    ),
  );
  columns.last_report_at = receivedAt;
  columns.first_report_at = host.first_report_at ?? receivedAt;
  if (host.ninth_at) await pruneBodies(tx, host.id);
  await judgeIngestedHost(
    tx,
    {
      id: host.id,
      org_id: orgId,
      state: host.state,
      last_report_at: receivedAt,
      apps_report_id: newestApps ? rowId : host.apps_report_id,
      files_report_id: (columns.files_report_id as string | undefined) ?? host.files_report_id,
      sweep_report_id: newestSweep ? rowId : host.sweep_report_id,
      cleared_at: (columns.cleared_at as string | undefined) ?? host.cleared_at,
    },
    new Date(receivedAt),
    {
      staleDays,
      hasFindings: host.has_findings === 1 || report.findings.length > 0,
      mayHaveAffectedApps: !newestApps || report.inventory.verdicts.some((v) => v.verdict === 'affected'),
      report: { id: rowId, command: report.command, outcome: report.outcome },
      columns,
    },
  );
}

/** Replaces the host's latest facts a report is the newest of; returns the columns of the host's row to set. */
async function storeFacts(
  tx: Db,
  host: IngestHost,
  rowId: string,
  report: Report,
  is: { newest: boolean; newestApps: boolean; newestSweep: boolean; observedAt: string },
): Promise<Record<string, SqlValue>> {
  const { org_id: orgId, id: hostId } = host;
  const columns: Record<string, SqlValue> = {};
  if (is.newest) {
    columns.os = report.host.os;
    columns.os_release = report.host.osRelease;
    columns.arch = report.host.arch;
    columns.addresses = await replaceHostAddresses(tx, orgId, hostId, report.host.addresses, host.addresses);
  }
  if (is.newestApps) {
    // Apps, files and addresses are written with the report they come from: without one, the host has none.
    const { digest } = await replaceHostApps(
      tx,
      orgId,
      hostId,
      report,
      host.apps_digest,
      host.apps_report_id !== null,
    );
    columns.apps_report_id = rowId;
    columns.os_family = report.inventory.os;
    columns.apps_digest = digest;
  }
  if (!is.newestSweep) return columns;
  columns.sweep_report_id = rowId;
  const files = fileFactsOf(report);
  if (files) {
    const { changed, digest } = await replaceHostFiles(
      tx,
      orgId,
      hostId,
      files,
      host.files_digest,
      host.files_report_id !== null,
    );
    // Unchanged files keep the report their judgements (agent or retro-hunt) rest on.
    if (changed) {
      columns.files_report_id = rowId;
      columns.files_digest = digest;
    }
  }
  const nothingFound =
    report.outcome === 'complete' &&
    report.findings.length === 0 &&
    !report.inventory.verdicts.some((v) => v.verdict === 'affected');
  if (nothingFound) columns.cleared_at = is.observedAt;
  return columns;
}

/**
 * A clean or partial host whose last report is older than its organisation's stale days went stale at
 * `last report + stale days`, whether or not anyone looked since: the change is recorded at that time.
 */
async function catchUpStale(tx: Db, host: HostIdentity, staleDays: number, now: string): Promise<void> {
  if ((host.state !== 'clean' && host.state !== 'partial') || !host.last_report_at) return;
  const since = staleAt(host.last_report_at, staleDays);
  if (since > now) return;
  await tx.run("UPDATE hosts SET state = 'stale', state_since = ? WHERE id = ?", [since, host.id]);
  await recordStateChange(tx, host.org_id, host.id, since, host.state, 'stale', null, {
    stale: { lastReportAt: host.last_report_at, staleDays, since },
  });
  host.state = 'stale';
}

async function pruneBodies(tx: Db, hostId: string): Promise<void> {
  const cutoff = await tx.get<{ observed_at: string }>(
    `SELECT observed_at FROM reports WHERE host_id = ? ORDER BY observed_at DESC LIMIT 1 OFFSET ${KEPT_REPORT_BODIES - 1}`,
    [hostId],
  );
  if (cutoff)
    await tx.run(
      'UPDATE reports SET body = NULL WHERE host_id = ? AND observed_at < ? AND body IS NOT NULL',
      [hostId, cutoff.observed_at],
    );
}
