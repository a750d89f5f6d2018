import type { Db } from './db.js';
import type { Migration } from './migration.js';

/** Held while one hub process migrates, so two starting together never both apply a migration. */
const MIGRATION_LOCK = 7_231_455;

/** A database whose schema is newer than this hub's code: the hub refuses to start rather than corrupt it. */
export class SchemaTooNewError extends Error {
  constructor(found: number, known: number) {
    super(
      `the database is at schema version ${found}, newer than this hub knows (${known}): upgrade the hub`,
    );
    this.name = 'SchemaTooNewError';
  }
}

/**
 * Brings the database to the last migration, each in its own transaction, and returns the version reached.
 * Refuses a database newer than `migrations`; safe when several hub processes start at once.
 */
export async function migrate(db: Db, migrations: readonly Migration[]): Promise<number> {
  await db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const known = migrations.at(-1)?.version ?? 0;
  return db.transaction(
    async (tx) => {
      const row = await tx.get<{ version: number | null }>(
        'SELECT MAX(version) AS version FROM schema_migrations',
      );
      const current = row?.version ?? 0;
      if (current > known) throw new SchemaTooNewError(current, known);
      for (const migration of migrations) {
        if (migration.version <= current) continue;
        await tx.exec(typeof migration.up === 'string' ? migration.up : migration.up[tx.dialect]);
        await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
          migration.version,
          migration.name,
          new Date().toISOString(),
        ]);
      }
      return known;
    },
    { lock: MIGRATION_LOCK },
  );
}
