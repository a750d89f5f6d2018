import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Db } from '../store/db.js';
import { connectStore, openStore, type StoreLocation } from '../store/open-store.js';

/** The PostgreSQL the tests use (CI runs one on 127.0.0.1:5432 with trust auth). */
export const TEST_POSTGRES_URL = process.env.CHAINSWEEP_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Both store dialects: every store test runs once on each (`describe.each(DIALECTS)`). */
export const DIALECTS = ['sqlite', 'postgres'] as const;
export type Dialect = (typeof DIALECTS)[number];

/** A fresh, migrated, empty store: a SQLite file in a temp folder, or a new PostgreSQL schema. */
export interface TestStore {
  db: Db;
  location: StoreLocation;
  /** Opens another connection to the same store, not migrating it (a second hub process, a restart). */
  reopen(): Promise<Db>;
  /** Closes every connection it opened and deletes the data. */
  cleanup(): Promise<void>;
}

/** Opens a fresh store of the given dialect. */
export async function openTestStore(dialect: Dialect): Promise<TestStore> {
  const dataDir = await mkdtemp(join(tmpdir(), 'chainsweep-hub-'));
  const location: StoreLocation = { dataDir };
  if (dialect === 'postgres') {
    const schema = `t_${randomUUID().replaceAll('-', '')}`;
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    location.postgresUrl = TEST_POSTGRES_URL;
    location.schema = schema;
  }
  const opened: Db[] = [];
  const reopen = async () => {
    const db = await connectStore(location);
    opened.push(db);
    return db;
  };
  const db = await openStore(location);
  opened.push(db);
  return {
    db,
    location,
    reopen,
    cleanup: async () => {
      for (const each of opened) await each.close().catch(() => undefined);
      if (location.schema) {
        const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
        await admin.connect();
        await admin.query(`DROP SCHEMA ${location.schema} CASCADE`);
        await admin.end();
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
