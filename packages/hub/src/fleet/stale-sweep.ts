import type { Db } from '../store/db.js';
import type { Scope } from '../tenancy.js';
import { parseJson } from './rows.js';
import { type HostState, recordStateChange, staleAt } from './states.js';

const MS_PER_DAY = 86_400_000;
const BATCH = 500;

/**
 * Brings the stored states of the hosts in `scope` up to `now`: clean and partial hosts whose last report is
 * older than their organisation's stale days become `stale` (the change dated when it happened: last report +
 * stale days), and stale hosts inside the window again (the organisation's days were raised) return to their base
 * state. A quick indexed check when nothing is due; the queries call it first.
 */
export async function refreshStaleHosts(
  db: Db,
  scope: Scope,
  now: Date,
  defaultStaleDays: number,
): Promise<void> {
  const orgs = await db.all<{ id: string; stale_days: number | null }>(
    scope.kind === 'all' ? 'SELECT id, stale_days FROM orgs' : 'SELECT id, stale_days FROM orgs WHERE id = ?',
    scope.kind === 'all' ? [] : [scope.orgId],
  );
  for (const org of orgs) {
    const staleDays = org.stale_days ?? defaultStaleDays;
    const cutoff = new Date(now.getTime() - staleDays * MS_PER_DAY).toISOString();
    for (;;) {
      const due = [
        ...(await db.all<{ id: string }>(
          `SELECT id FROM hosts WHERE org_id = ? AND base_state IN ('clean', 'partial') AND state <> 'stale'
              AND last_report_at <= ? LIMIT ${BATCH}`,
          [org.id, cutoff],
        )),
        ...(await db.all<{ id: string }>(
          `SELECT id FROM hosts WHERE org_id = ? AND state = 'stale' AND last_report_at > ? LIMIT ${BATCH}`,
          [org.id, cutoff],
        )),
      ];
      if (due.length === 0) break;
      await db.transaction(async (tx) => {
        for (const { id } of due) await settle(tx, org.id, id, staleDays, cutoff, now.toISOString());
      });
      if (due.length < BATCH) break;
    }
  }
}

async function settle(tx: Db, orgId: string, id: string, staleDays: number, cutoff: string, now: string) {
  const host = await tx.get<{
    state: HostState;
    base_state: HostState;
    last_report_at: string;
    state_evidence: string;
  }>('SELECT state, base_state, last_report_at, state_evidence FROM hosts WHERE id = ? AND org_id = ?', [
    id,
    orgId,
  ]);
  if (!host?.last_report_at) return;
  const evidence = parseJson<Record<string, unknown>>(host.state_evidence, {});
  const goesStale = host.last_report_at <= cutoff;
  const next: HostState =
    goesStale && (host.base_state === 'clean' || host.base_state === 'partial') ? 'stale' : host.base_state;
  if (next === host.state) return;
  const since = next === 'stale' ? staleAt(host.last_report_at, staleDays) : now;
  const stale = { lastReportAt: host.last_report_at, staleDays, since };
  const updated = { ...evidence, state: next, ...(next === 'stale' ? { stale } : { stale: undefined }) };
  await tx.run('UPDATE hosts SET state = ?, state_since = ?, state_evidence = ? WHERE id = ?', [
    next,
    since,
    JSON.stringify(updated),
    id,
  ]);
  await recordStateChange(tx, orgId, id, since, host.state, next, null, next === 'stale' ? { stale } : {});
}
