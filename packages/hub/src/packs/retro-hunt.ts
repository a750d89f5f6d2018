import { randomUUID } from 'node:crypto';
import type { InstalledApp, OsFamily } from 'chainsweep/core/app.js';
import { errorMessage } from 'chainsweep/core/errors.js';
import type { Finding } from 'chainsweep/core/finding.js';
import type { Db, SqlValue } from '../store/db.js';
import type { PackSettings } from './pack-settings.js';
import {
  appNameKeys,
  compilePackMatchers,
  type FileFact,
  type HostFacts,
  judgeHostFacts,
  needsEveryFile,
  type PackMatchers,
} from './retro-match.js';
import { storedPackIntel } from './stored-intel.js';

/** Hosts judged per batch (one transaction each): the most facts held in memory at once. */
export const RETRO_HUNT_BATCH = 500;
/** A running run whose claimant has not written for this long is taken over by another process. */
export const CLAIM_TIMEOUT_MS = 60_000;
/** Digests per `IN (...)` list. */
const DIGEST_CHUNK = 400;

/** Re-derives a host's state from its findings, inside the batch's transaction (the fleet's own function). */
export type RecomputeHostState = (tx: Db, orgId: string, hostId: string) => Promise<unknown>;

/** A retro-hunt run as the API shows it. */
export interface RetroHuntRun {
  id: string;
  packId: string;
  packSequence: number;
  status: 'queued' | 'running' | 'done' | 'failed';
  requestedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  hostsChecked: number;
  hostsFlagged: number;
  findingsAdded: number;
  durationMs: number | null;
  error: string | null;
}

type RunRow = {
  id: string;
  pack_id: string;
  pack_sequence: number;
  status: RetroHuntRun['status'];
  requested_at: string;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: string | null;
  cursor_host: string | null;
  hosts_checked: number;
  hosts_flagged: number;
  findings_added: number;
  duration_ms: number | null;
  error: string | null;
};

const RUN_COLUMNS =
  'id, pack_id, pack_sequence, status, requested_at, started_at, finished_at, heartbeat_at, cursor_host, hosts_checked, hosts_flagged, findings_added, duration_ms, error';

/** Records a queued run for a pack sequence, inside the upload's transaction; one per sequence (unique). */
export async function queueRetroHunt(
  tx: Db,
  pack: { id: string; sequence: number },
  now: Date,
): Promise<RetroHuntRun> {
  const id = randomUUID();
  await tx.run(
    'INSERT INTO retro_hunts (id, pack_id, pack_sequence, status, requested_at) VALUES (?, ?, ?, ?, ?)',
    [id, pack.id, pack.sequence, 'queued', now.toISOString()],
  );
  return (await getRun(tx, id)) as RetroHuntRun;
}

/** A run by id; with an organisation, its counts are that organisation's only. */
export async function getRun(db: Db, id: string, orgId?: string): Promise<RetroHuntRun | undefined> {
  const row = await db.get<RunRow>(`SELECT ${RUN_COLUMNS} FROM retro_hunts WHERE id = ?`, [id]);
  if (!row) return undefined;
  const run = fromRow(row);
  if (orgId === undefined) return run;
  const own = await db.get<{ hosts_checked: number; hosts_flagged: number }>(
    'SELECT hosts_checked, hosts_flagged FROM retro_hunt_orgs WHERE run_id = ? AND org_id = ?',
    [id, orgId],
  );
  return {
    ...run,
    hostsChecked: Number(own?.hosts_checked ?? 0),
    hostsFlagged: Number(own?.hosts_flagged ?? 0),
    // Another organisation's findings are not this organisation's business, not even as a count.
    findingsAdded: 0,
  };
}

/** The newest run of each pack sequence, for the pack list. */
export async function runsByPack(db: Db): Promise<Map<string, RetroHuntRun>> {
  const rows = await db.all<RunRow>(`SELECT ${RUN_COLUMNS} FROM retro_hunts`);
  return new Map(rows.map((r) => [`${r.pack_id}#${Number(r.pack_sequence)}`, fromRow(r)]));
}

/** Runs waiting for a process: queued, or running under a claim that stopped being renewed. */
export async function pendingRuns(db: Db, now: Date): Promise<string[]> {
  const stale = new Date(now.getTime() - CLAIM_TIMEOUT_MS).toISOString();
  const rows = await db.all<{ id: string }>(
    "SELECT id FROM retro_hunts WHERE status = 'queued' OR (status = 'running' AND heartbeat_at < ?) ORDER BY requested_at",
    [stale],
  );
  return rows.map((r) => r.id);
}

/** What a run needs besides the store. */
export interface RetroHuntContext {
  db: Db;
  settings: PackSettings;
  now: () => Date;
  recompute: RecomputeHostState;
  /** Hosts per batch; RETRO_HUNT_BATCH by default. */
  batchSize?: number;
}

/**
 * Runs one retro-hunt to its end, if this process can claim it (queued, or abandoned by a process that stopped
 * renewing its claim); otherwise returns at once. Pages over hosts by id; each batch's findings, host states,
 * counts and cursor commit together, and only while the claim is still this process's, so a run taken over or
 * resumed after a crash neither skips nor repeats a host. Returns the run as it ended, or undefined when
 * another process holds it.
 */
export async function runRetroHunt(ctx: RetroHuntContext, runId: string): Promise<RetroHuntRun | undefined> {
  const worker = randomUUID();
  const claimedAt = ctx.now();
  const claimed = await ctx.db.run(
    `UPDATE retro_hunts SET status = 'running', claimed_by = ?, heartbeat_at = ?, started_at = COALESCE(started_at, ?)
     WHERE id = ? AND (status = 'queued' OR (status = 'running' AND heartbeat_at < ?))`,
    [
      worker,
      claimedAt.toISOString(),
      claimedAt.toISOString(),
      runId,
      new Date(claimedAt.getTime() - CLAIM_TIMEOUT_MS).toISOString(),
    ],
  );
  if (claimed === 0) return undefined;
  const run = (await ctx.db.get<RunRow>(`SELECT ${RUN_COLUMNS} FROM retro_hunts WHERE id = ?`, [
    runId,
  ])) as RunRow;
  const started = Date.now();
  try {
    const matchers = await matchersFor(ctx, run);
    let cursor = run.cursor_host ?? '';
    for (;;) {
      const hosts = await ctx.db.all<HostRow>(
        `SELECT id, org_id, os_family, apps_report_id, files_report_id FROM hosts WHERE id > ? ORDER BY id LIMIT ?`,
        [cursor, ctx.batchSize ?? RETRO_HUNT_BATCH],
      );
      if (hosts.length === 0) break;
      const judged = await judgeBatch(ctx.db, hosts, matchers);
      cursor = (hosts.at(-1) as HostRow).id;
      // Each flagged host commits on its own (small transactions, cheap to retry on a conflict with ingestion);
      // the cursor and the count of hosts checked commit after the batch. A host judged again after a crash
      // adds nothing (its findings are held), so nothing is counted twice.
      const owns = async (tx: Db) =>
        Boolean(
          await tx.get('SELECT 1 AS ok FROM retro_hunts WHERE id = ? AND claimed_by = ?', [runId, worker]),
        );
      const checked = new Map<string, number>();
      for (const one of judged) {
        checked.set(one.host.org_id, (checked.get(one.host.org_id) ?? 0) + 1);
        if (one.findings.length === 0) continue;
        const mine = await ctx.db.transaction(async (tx) => {
          if (!(await owns(tx))) return false;
          const added = await writeHostFindings(tx, one, matchers, ctx);
          if (added === 0) return true;
          await countOrg(tx, runId, one.host.org_id, 0, 1);
          await tx.run(
            'UPDATE retro_hunts SET hosts_flagged = hosts_flagged + 1, findings_added = findings_added + ?, heartbeat_at = ? WHERE id = ?',
            [added, ctx.now().toISOString(), runId],
          );
          return true;
        });
        if (!mine) return undefined;
      }
      const owned = await ctx.db.transaction(async (tx) => {
        if (!(await owns(tx))) return false;
        for (const [orgId, n] of checked) await countOrg(tx, runId, orgId, n, 0);
        await tx.run(
          'UPDATE retro_hunts SET cursor_host = ?, heartbeat_at = ?, hosts_checked = hosts_checked + ? WHERE id = ?',
          [cursor, ctx.now().toISOString(), hosts.length, runId],
        );
        return true;
      });
      if (!owned) return undefined;
    }
    await finish(ctx, runId, worker, 'done', null, Number(run.duration_ms ?? 0) + Date.now() - started);
  } catch (error) {
    await finish(ctx, runId, worker, 'failed', errorMessage(error).slice(0, 500), Date.now() - started);
  }
  return getRun(ctx.db, runId);
}

type FileRow = {
  host_id: string;
  path: string;
  size: number | null;
  sha256: string | null;
  sha1: string | null;
  md5: string | null;
};

type HostRow = {
  id: string;
  org_id: string;
  os_family: string | null;
  apps_report_id: string | null;
  files_report_id: string | null;
};

/** One judged host: its findings, each with the report whose facts it rests on. */
interface JudgedHost {
  host: HostRow;
  findings: { finding: Finding; reportId: string }[];
}

async function matchersFor(ctx: RetroHuntContext, run: RunRow): Promise<PackMatchers> {
  const intel = await storedPackIntel(ctx.db, ctx.settings, run.pack_id, Number(run.pack_sequence));
  if (!intel) throw new Error(`pack ${run.pack_id} #${run.pack_sequence} is not stored`);
  return compilePackMatchers(intel, { id: run.pack_id, sequence: Number(run.pack_sequence) });
}

/** Reads the batch's stored facts the pack can match (every app; every file, or only digest hits) and judges them. */
async function judgeBatch(db: Db, hosts: readonly HostRow[], matchers: PackMatchers): Promise<JudgedHost[]> {
  const apps = new Map<string, InstalledApp[]>();
  const files = new Map<string, FileFact[]>();
  const marks = hosts.map(() => '?').join(', ');
  const ids = hosts.map((h) => h.id);
  if (matchers.apps.length > 0) {
    const names = appNameKeys(matchers);
    const byName = names ? ` AND name_key IN (${names.map(() => '?').join(', ')})` : '';
    const rows = await db.all<{ host_id: string; app: string }>(
      `SELECT host_id, app FROM host_apps WHERE host_id IN (${marks})${byName} ORDER BY host_id, position`,
      [...ids, ...(names ?? [])],
    );
    for (const row of rows) push(apps, row.host_id, JSON.parse(row.app) as InstalledApp);
  }
  const fileRows: FileRow[] = [];
  const columns = 'host_id, path, size, sha256, sha1, md5';
  if (needsEveryFile(matchers)) {
    fileRows.push(
      ...(await db.all<FileRow>(
        `SELECT ${columns} FROM host_files WHERE host_id IN (${marks}) ORDER BY host_id, position`,
        ids,
      )),
    );
  } else {
    for (const [algorithm, digests] of matchers.digests)
      for (let at = 0; at < digests.length; at += DIGEST_CHUNK) {
        const chunk = digests.slice(at, at + DIGEST_CHUNK);
        const rows = await db.all<FileRow>(
          `SELECT ${columns} FROM host_files WHERE host_id IN (${marks}) AND ${algorithm} IN (${chunk.map(() => '?').join(', ')})`,
          [...ids, ...chunk],
        );
        fileRows.push(...rows);
      }
  }
  for (const row of fileRows) push(files, row.host_id, row);
  const judged: JudgedHost[] = [];
  for (const host of hosts) {
    const facts: HostFacts = {
      hostId: host.id,
      os: osFamily(host.os_family),
      apps: host.apps_report_id ? (apps.get(host.id) ?? []) : [],
      files: [],
    };
    const fromApps = judgeHostFacts(facts, matchers).map((finding) => ({
      finding,
      reportId: host.apps_report_id as string,
    }));
    const fromFiles = host.files_report_id
      ? judgeHostFacts({ ...facts, apps: [], files: dedupe(files.get(host.id) ?? []) }, matchers).map(
          (finding) => ({ finding, reportId: host.files_report_id as string }),
        )
      : [];
    judged.push({ host, findings: [...fromApps, ...fromFiles] });
  }
  return judged;
}

/**
 * Writes each finding the host does not hold already (for the same report, or among the findings its state rests
 * on, from its agent or an earlier run) and, when it gained one, re-derives its state (which also marks the new
 * findings current). Returns the number added.
 */
async function writeHostFindings(
  tx: Db,
  { host, findings }: JudgedHost,
  matchers: PackMatchers,
  ctx: RetroHuntContext,
): Promise<number> {
  const now = ctx.now().toISOString();
  let added = 0;
  for (const { finding, reportId } of findings) {
    const held = await tx.get(
      'SELECT 1 AS held FROM findings WHERE host_id = ? AND fingerprint = ? AND (report_id = ? OR current = 1)',
      [host.id, finding.fingerprint, reportId],
    );
    if (held) continue;
    const report = await tx.get<{ observed_at: string }>('SELECT observed_at FROM reports WHERE id = ?', [
      reportId,
    ]);
    const values: SqlValue[] = [
      host.org_id,
      host.id,
      reportId,
      'retro-hunt',
      finding.fingerprint,
      finding.kind,
      finding.indicatorId,
      finding.packId,
      matchers.sequence,
      finding.severity,
      finding.title,
      JSON.stringify(finding.subject),
      JSON.stringify(finding.evidence),
      report?.observed_at ?? now,
      0,
      now,
    ];
    await tx.run(
      `INSERT INTO findings (org_id, host_id, report_id, origin, fingerprint, kind, indicator_id, pack_id,
       pack_sequence, severity, title, subject, evidence, observed_at, current, created_at)
       VALUES (${values.map(() => '?').join(', ')})`,
      values,
    );
    added += 1;
  }
  if (added > 0) await ctx.recompute(tx, host.org_id, host.id);
  return added;
}

/** Adds to one organisation's counts of a run. */
async function countOrg(
  tx: Db,
  runId: string,
  orgId: string,
  checked: number,
  flagged: number,
): Promise<void> {
  await tx.run(
    `INSERT INTO retro_hunt_orgs (run_id, org_id, hosts_checked, hosts_flagged) VALUES (?, ?, ?, ?)
     ON CONFLICT (run_id, org_id) DO UPDATE SET hosts_checked = retro_hunt_orgs.hosts_checked + excluded.hosts_checked,
     hosts_flagged = retro_hunt_orgs.hosts_flagged + excluded.hosts_flagged`,
    [runId, orgId, checked, flagged],
  );
}

async function finish(
  ctx: RetroHuntContext,
  runId: string,
  worker: string,
  status: 'done' | 'failed',
  error: string | null,
  durationMs: number,
): Promise<void> {
  await ctx.db.run(
    `UPDATE retro_hunts SET status = ?, finished_at = ?, duration_ms = ?, error = ?, heartbeat_at = ?
     WHERE id = ? AND claimed_by = ?`,
    [status, ctx.now().toISOString(), durationMs, error, ctx.now().toISOString(), runId, worker],
  );
}

/** The same stored file matched by two digests of one pack is one fact. */
function dedupe(files: readonly FileFact[]): FileFact[] {
  const seen = new Set<string>();
  return files.filter((f) => {
    const key = `${f.path}\0${f.sha256 ?? ''}\0${f.sha1 ?? ''}\0${f.md5 ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function osFamily(value: string | null): OsFamily {
  return value === 'windows' || value === 'macos' || value === 'linux' ? value : 'unknown';
}

function fromRow(row: RunRow): RetroHuntRun {
  return {
    id: row.id,
    packId: row.pack_id,
    packSequence: Number(row.pack_sequence),
    status: row.status,
    requestedAt: row.requested_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    hostsChecked: Number(row.hosts_checked),
    hostsFlagged: Number(row.hosts_flagged),
    findingsAdded: Number(row.findings_added),
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    error: row.error,
  };
}
