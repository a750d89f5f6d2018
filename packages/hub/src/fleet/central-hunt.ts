import { createHash, randomUUID } from 'node:crypto';
import type { Report } from 'chainsweep/core/report.js';
import { HttpError } from '../http/http-error.js';
import type { Db, SqlValue } from '../store/db.js';
import { canonicalAddress, nameKey } from './addresses.js';
import { findingRow, insertFindings, packSequences } from './ingest.js';
import { notAfter } from './rows.js';
import { recomputeHostState } from './states.js';

/** A host a central hunt's hits were attributed to. */
export interface AttributedHost {
  id: string;
  hostId: string;
  hostname: string;
  clients: string[];
  hits: number;
  state: string | undefined;
}

/** What a central hunt upload answers. */
export interface CentralHuntResult {
  reportId: string;
  duplicate: boolean;
  attributed: AttributedHost[];
  /** Clients no host of the organisation claims, with their hits and indicators. */
  unattributed: { client: string; hits: number; indicators: string[] }[];
  /** Hits whose log line named no client. */
  withoutClient: number;
}

type Match = { id: string; claimed_host_id: string; hostname: string; by: 'address' | 'hostname' };

/** The organisation's hosts a log client names: by a current address, else by hostname (or its first label). */
async function hostsOfClient(tx: Db, orgId: string, client: string): Promise<Match[]> {
  const address = canonicalAddress(client);
  if (address)
    return (
      await tx.all<Omit<Match, 'by'>>(
        `SELECT h.id, h.claimed_host_id, h.hostname FROM host_addresses a JOIN hosts h ON h.id = a.host_id
          WHERE a.org_id = ? AND a.address = ? ORDER BY h.id`,
        [orgId, address],
      )
    ).map((m) => ({ ...m, by: 'address' }));
  const name = nameKey(client);
  if (!name || name.length > 255) return [];
  const label = name.split('.')[0] ?? name;
  const like = `${label.replace(/[\\%_]/g, (ch) => `\\${ch}`)}.%`;
  return (
    await tx.all<Omit<Match, 'by'>>(
      `SELECT id, claimed_host_id, hostname FROM hosts
        WHERE org_id = ? AND (hostname_key = ? OR hostname_key = ? OR hostname_key LIKE ? ESCAPE '\\') ORDER BY id`,
      [orgId, name, label, like],
    )
  ).map((m) => ({ ...m, by: 'hostname' }));
}

/**
 * Stores a hunt report from a central DNS server or proxy log and attributes each hit to the organisation's hosts
 * whose current address or hostname the log line's client names: each becomes a `central-hunt` finding of that
 * host (evidence: log file, line, time, value, indicator, how it was matched) and the host is judged again
 * (`beaconed`). Idempotent on `reportId` within the organisation.
 */
export async function ingestCentralHunt(
  db: Db,
  input: { orgId: string; uploadedBy: string; report: Report; sizeBytes: number; gzipBody: Buffer },
  now: Date,
  defaultStaleDays: number,
): Promise<CentralHuntResult> {
  const { report, orgId } = input;
  if (report.command !== 'hunt')
    throw new HttpError(400, 'NOT_A_HUNT', 'command must be hunt for a central hunt upload', {
      field: 'command',
    });
  return db.transaction(async (tx) => {
    const result: CentralHuntResult = {
      reportId: report.reportId,
      duplicate: true,
      attributed: [],
      unattributed: [],
      withoutClient: 0,
    };
    if (await tx.get('SELECT id FROM reports WHERE org_id = ? AND report_id = ?', [orgId, report.reportId]))
      return result;
    result.duplicate = false;
    const receivedAt = now.toISOString();
    const observedAt = notAfter(report.finishedAt, receivedAt);
    const rowId = randomUUID();
    await tx.run(
      `INSERT INTO reports (id, org_id, report_id, host_id, agent_id, uploaded_by, origin, command, tool_version,
         hostname, received_at, started_at, finished_at, observed_at, outcome, size_bytes, findings_count, packs,
         coverage, body, body_encoding)
       VALUES (?, ?, ?, NULL, NULL, ?, 'central-hunt', 'hunt', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'gzip-base64')`,
      [
        rowId,
        orgId,
        report.reportId,
        input.uploadedBy,
        report.tool.version,
        report.host.hostname,
        receivedAt,
        report.startedAt,
        report.finishedAt,
        observedAt,
        report.outcome,
        input.sizeBytes,
        report.findings.length,
        JSON.stringify(
          report.packs.map((p) => ({ id: p.id, sequence: p.sequence ?? null, signed: p.signed })),
        ),
        JSON.stringify(
          report.coverage.map((c) => ({ name: c.name, outcome: c.outcome, problems: c.problemCount })),
        ),
        input.gzipBody.toString('base64'),
      ],
    );
    const sequences = packSequences(report);
    const matches = new Map<string, Match[]>();
    const hosts = new Map<string, AttributedHost>();
    const unattributed = new Map<string, { hits: number; indicators: Set<string> }>();
    const rows: SqlValue[][] = [];
    for (const finding of report.findings) {
      const client = finding.subject.log?.client?.trim();
      if (!client) {
        result.withoutClient += 1;
        continue;
      }
      let found = matches.get(client);
      if (!found) {
        found = await hostsOfClient(tx, orgId, client);
        matches.set(client, found);
      }
      if (found.length === 0) {
        const entry = unattributed.get(client) ?? { hits: 0, indicators: new Set<string>() };
        entry.hits += 1;
        entry.indicators.add(finding.indicatorId);
        unattributed.set(client, entry);
        continue;
      }
      for (const match of found) {
        const host = hosts.get(match.id) ?? {
          id: match.id,
          hostId: match.claimed_host_id,
          hostname: match.hostname,
          clients: [],
          hits: 0,
          state: undefined,
        };
        if (!host.clients.includes(client)) host.clients.push(client);
        host.hits += 1;
        hosts.set(match.id, host);
        const log = finding.subject.log;
        rows.push(
          findingRow(finding, {
            orgId,
            hostId: match.id,
            reportRowId: rowId,
            origin: 'central-hunt',
            observedAt,
            receivedAt,
            packSequence: sequences.get(finding.packId) ?? null,
            fingerprint: createHash('sha256')
              .update(`central-hunt\0${match.claimed_host_id}\0${finding.fingerprint}`)
              .digest('hex'),
            evidence: {
              ...finding.evidence,
              attribution: {
                client,
                matchedBy: match.by,
                ...(found.length > 1 ? { sharedWith: found.length - 1 } : {}),
                logFile: log?.file,
                line: log?.line,
                time: log?.timestamp,
                value: log?.seen,
                field: log?.field,
                indicatorId: finding.indicatorId,
                huntReportId: report.reportId,
                huntHost: report.host.hostname,
              },
            },
          }),
        );
      }
    }
    await insertFindings(tx, rows);
    for (const host of hosts.values())
      host.state = await recomputeHostState(tx, orgId, host.id, now, { defaultStaleDays, reportId: rowId });
    result.attributed = [...hosts.values()];
    result.unattributed = [...unattributed].map(([client, e]) => ({
      client,
      hits: e.hits,
      indicators: [...e.indicators],
    }));
    return result;
  });
}
