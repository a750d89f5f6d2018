import { randomUUID } from 'node:crypto';
import type { Finding } from 'chainsweep/core/finding.js';
import type { Report } from 'chainsweep/core/report.js';
import { HttpError } from '../http/http-error.js';
import type { Db, SqlValue } from '../store/db.js';
import { fileFactsOf, replaceHostAddresses, replaceHostApps, replaceHostFiles } from './host-facts.js';
import { findOrCreateHost, type HostIdentity, noteReporter } from './host-identity.js';
import { insertRows, lockOf, notAfter } from './rows.js';
import { recomputeHostState, recordStateChange, staleAt, staleDaysOf } from './states.js';

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

async function storeReport(tx: Db, input: AgentReport, now: Date, defaultStaleDays: number): Promise<void> {
  const { report, orgId } = input;
  const receivedAt = now.toISOString();
  const observedAt = notAfter(report.finishedAt, receivedAt);
  const host = await findOrCreateHost(tx, {
    orgId,
    claimedHostId: report.host.hostId,
    hostname: report.host.hostname,
    at: receivedAt,
  });
  const staleDays = await staleDaysOf(tx, orgId, defaultStaleDays);
  await catchUpStale(tx, host, staleDays, receivedAt);
  const latest = await tx.get<{ newest: string | null; apps: string | null; sweep: string | null }>(
    `SELECT (SELECT MAX(observed_at) FROM reports WHERE host_id = ?) AS newest,
            (SELECT r.observed_at FROM reports r JOIN hosts h ON h.apps_report_id = r.id WHERE h.id = ?) AS apps,
            (SELECT r.observed_at FROM reports r JOIN hosts h ON h.sweep_report_id = r.id WHERE h.id = ?) AS sweep`,
    [host.id, host.id, host.id],
  );
  const newest = !latest?.newest || observedAt >= latest.newest;
  const newestApps = report.command !== 'hunt' && (!latest?.apps || observedAt >= latest.apps);
  const newestSweep = report.command === 'scan' && (!latest?.sweep || observedAt >= latest.sweep);
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
  await noteReporter(tx, host, {
    agentId: input.agentId,
    hostname: report.host.hostname,
    at: receivedAt,
    reportId: report.reportId,
    newest,
  });
  await storeFacts(tx, host, rowId, report, { newest, newestApps, newestSweep, observedAt });
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
  await tx.run(
    'UPDATE hosts SET last_report_at = ?, first_report_at = COALESCE(first_report_at, ?) WHERE id = ?',
    [receivedAt, receivedAt, host.id],
  );
  await pruneBodies(tx, host.id);
  await recomputeHostState(tx, orgId, host.id, new Date(receivedAt), {
    defaultStaleDays: staleDays,
    reportId: rowId,
  });
}

async function storeFacts(
  tx: Db,
  host: HostIdentity,
  rowId: string,
  report: Report,
  is: { newest: boolean; newestApps: boolean; newestSweep: boolean; observedAt: string },
): Promise<void> {
  const { org_id: orgId, id: hostId } = host;
  if (is.newest) {
    const addresses = await replaceHostAddresses(tx, orgId, hostId, report.host.addresses);
    await tx.run('UPDATE hosts SET os = ?, os_release = ?, arch = ?, addresses = ? WHERE id = ?', [
      report.host.os,
      report.host.osRelease,
      report.host.arch,
      JSON.stringify(addresses),
      hostId,
    ]);
  }
  if (is.newestApps) {
    await replaceHostApps(tx, orgId, hostId, report);
    await tx.run('UPDATE hosts SET apps_report_id = ?, os_family = ? WHERE id = ?', [
      rowId,
      report.inventory.os,
      hostId,
    ]);
  }
  if (!is.newestSweep) return;
  await tx.run('UPDATE hosts SET sweep_report_id = ? WHERE id = ?', [rowId, hostId]);
  const files = fileFactsOf(report);
  if (files) {
    const stored = await tx.get<{ files_digest: string | null }>(
      'SELECT files_digest FROM hosts WHERE id = ?',
      [hostId],
    );
    const { changed, digest } = await replaceHostFiles(
      tx,
      orgId,
      hostId,
      files,
      stored?.files_digest ?? null,
    );
    // Unchanged files keep the report their judgements (agent or retro-hunt) rest on.
    if (changed)
      await tx.run('UPDATE hosts SET files_report_id = ?, files_digest = ? WHERE id = ?', [
        rowId,
        digest,
        hostId,
      ]);
  }
  const nothingFound =
    report.outcome === 'complete' &&
    report.findings.length === 0 &&
    !report.inventory.verdicts.some((v) => v.verdict === 'affected');
  if (nothingFound) await tx.run('UPDATE hosts SET cleared_at = ? WHERE id = ?', [is.observedAt, hostId]);
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
