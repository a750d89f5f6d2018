import { join } from 'node:path';
import { openDataFolder, prepareDatabaseFile } from './data-folder.js';
import type { Db } from './db.js';
import { migrate } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';
import { openPostgresDb } from './postgres-db.js';
import { openSqliteDb } from './sqlite-db.js';

/** Where the hub keeps its data: PostgreSQL when a URL is given, else `hub.db` (SQLite) in the data folder. */
export interface StoreLocation {
  dataDir: string;
  postgresUrl?: string;
  /** PostgreSQL schema to use instead of the default search path. */
  schema?: string;
}

/** Connects to the store without migrating it; SQLite's data folder and `hub.db` are checked first. */
export async function connectStore(location: StoreLocation): Promise<Db> {
  if (location.postgresUrl)
    return openPostgresDb(location.postgresUrl, location.schema ? { schema: location.schema } : {});
  openDataFolder(location.dataDir);
  const path = join(location.dataDir, 'hub.db');
  prepareDatabaseFile(path);
  return openSqliteDb(path);
}

/** Opens the store and applies pending migrations; throws `SchemaTooNewError` for a newer database. */
export async function openStore(location: StoreLocation): Promise<Db> {
  const db = await connectStore(location);
  try {
    await migrate(db, MIGRATIONS);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}
