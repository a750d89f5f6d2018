import { fingerprint, hostFingerprint } from 'chainsweep/core/finding.js';
import { loadPrivateKey } from 'chainsweep/packs/keys.js';
import { verifyPackArchive } from 'chainsweep/packs/verify-pack.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOrg } from '../auth/orgs.js';
import { recomputeHostState } from '../fleet/states.js';
import type { Db } from '../store/db.js';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import { insertPack, PACKS_LOCK } from './hub-pack-store.js';
import { DEFAULT_PACK_SETTINGS, type PackSettings } from './pack-settings.js';
import {
  CLAIM_TIMEOUT_MS,
  getRun,
  queueRetroHunt,
  type RetroHuntContext,
  runRetroHunt,
} from './retro-hunt.js';
import { packArchiveBytes, sha256Indicator, storeHost, type TestKey, testKey } from './test-packs.js';

const BAD = 'f'.repeat(64);

describe.each(DIALECTS)('retro-hunt runs on %s', (dialect) => {
  let store: TestStore;
  let key: TestKey;
  let settings: PackSettings;
  let runId: string;
  let flagged: string[];
  const context = (db: Db, now = () => new Date()): RetroHuntContext => ({
    db,
    settings,
    now,
    recompute: (tx, org, host) => recomputeHostState(tx, org, host, now()),
    batchSize: 2,
  });
  const findingCount = async () =>
    Number((await store.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM findings'))?.n);

  beforeEach(async () => {
    store = await openTestStore(dialect);
    key = testKey();
    settings = {
      ...DEFAULT_PACK_SETTINGS,
      keyring: [key.key],
      feedKey: loadPrivateKey(key.privateKeyPem, 'k'),
    };
    const org = await createOrg(store.db, { name: 'Acme' }, new Date());
    flagged = [];
    for (let i = 0; i < 7; i++) {
      const bad = i % 3 === 0;
      const id = await storeHost(store.db, org.id, {
        name: `pc-${i}`,
        files: [{ path: `C:/app/${i}.dll`, sha256: bad ? BAD : `${i}`.repeat(64).slice(0, 64) }],
      });
      if (bad) flagged.push(id);
    }
    const archive = await packArchiveBytes(
      'acme',
      { indicators: [sha256Indicator('x', BAD)] },
      { key, sequence: 2 },
    );
    const pack = await verifyPackArchive(archive, { keyring: [key.key] });
    runId = await store.db.transaction(
      async (tx) => {
        const stored = await insertPack(tx, pack, archive, { by: 'test', at: new Date() });
        return (await queueRetroHunt(tx, stored, new Date())).id;
      },
      { lock: PACKS_LOCK },
    );
  });
  afterEach(() => store.cleanup());

  it('runs once when two hub processes start it together', async () => {
    const other = await store.reopen();
    const results = await Promise.all([
      runRetroHunt(context(store.db), runId),
      runRetroHunt(context(other), runId),
    ]);
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    expect(await getRun(store.db, runId)).toMatchObject({ status: 'done', hostsChecked: 7, hostsFlagged: 3 });
    expect(await findingCount()).toBe(3);
    const hosts = await store.db.all<{ id: string; state: string }>(
      "SELECT id FROM hosts WHERE state = 'hits'",
    );
    expect(hosts.map((h) => h.id).sort()).toEqual([...flagged].sort());
    // Killed after its hosts committed but before the cursor did: judged again, nothing is added or counted twice.
    await store.db.run("UPDATE retro_hunts SET status = 'queued', cursor_host = NULL, hosts_checked = 0");
    expect(await runRetroHunt(context(other), runId)).toMatchObject({ hostsChecked: 7, hostsFlagged: 3 });
    expect(await findingCount()).toBe(3);
  });

  it('adds nothing for a finding the host already holds from its own agent', async () => {
    const [host] = flagged;
    const row = await store.db.get<{ org_id: string; files_report_id: string; path: string }>(
      'SELECT h.org_id, h.files_report_id, f.path FROM hosts h JOIN host_files f ON f.host_id = h.id WHERE h.id = ?',
      [host as string],
    );
    const fp = hostFingerprint(host as string, fingerprint('acme', 'x', row?.path as string));
    await store.db.run(
      `INSERT INTO findings (org_id, host_id, report_id, origin, fingerprint, kind, indicator_id, pack_id, severity, title, subject, evidence, observed_at, current, created_at)
       VALUES (?, ?, ?, 'agent', ?, 'sha256', 'x', 'acme', 'critical', 't', '{}', '{}', ?, 1, ?)`,
      [
        row?.org_id as string,
        host as string,
        row?.files_report_id as string,
        fp,
        new Date().toISOString(),
        new Date().toISOString(),
      ],
    );
    expect(await runRetroHunt(context(store.db), runId)).toMatchObject({ hostsFlagged: 2, findingsAdded: 2 });
    expect(await findingCount()).toBe(3);
  });

  it('leaves a live claim alone and takes over one whose process stopped, going on from its cursor', async () => {
    // A process claimed the run, finished its first batch (two hosts), and was killed.
    const first = (await store.db.all<{ id: string }>('SELECT id FROM hosts ORDER BY id LIMIT 2')).at(-1)?.id;
    const killedAt = new Date();
    await store.db.run(
      "UPDATE retro_hunts SET status = 'running', claimed_by = 'killed', heartbeat_at = ?, cursor_host = ?, hosts_checked = 2 WHERE id = ?",
      [killedAt.toISOString(), first as string, runId],
    );
    const other = await store.reopen();
    expect(await runRetroHunt(context(other), runId)).toBeUndefined();
    const later = () => new Date(killedAt.getTime() + CLAIM_TIMEOUT_MS + 1000);
    const run = await runRetroHunt(context(other, later), runId);
    expect(run).toMatchObject({ status: 'done', hostsChecked: 7 });
    // The killed process's batch is not judged again: only the hosts after its cursor were.
    const afterCursor = flagged.filter((id) => id > (first as string));
    expect(await findingCount()).toBe(afterCursor.length);
    // Once done, it is never run again.
    expect(await runRetroHunt(context(store.db, later), runId)).toBeUndefined();
  });
});
