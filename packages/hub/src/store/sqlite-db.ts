import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Db, Row, SqlValue } from './db.js';

/** Open files by path: a second open in the same process shares the connection and its queue. */
const shared = new Map<string, { db: Db; users: number }>();

/**
 * The embedded store: one SQLite file in WAL mode. better-sqlite3 is synchronous, so an async transaction is
 * serialised with every other statement by a queue: nothing interleaves with an open transaction. Opening the
 * same file twice in one process shares one connection (two would block each other's event loop).
 */
export function openSqliteDb(file: string): Db {
  const key = resolve(file);
  let entry = shared.get(key);
  if (!entry) {
    entry = { db: connect(key), users: 0 };
    shared.set(key, entry);
  }
  entry.users += 1;
  const opened = entry;
  let closed = false;
  return {
    ...opened.db,
    close: async () => {
      if (closed) return;
      closed = true;
      opened.users -= 1;
      if (opened.users > 0) return;
      shared.delete(key);
      await opened.db.close();
    },
  };
}

function connect(file: string): Db {
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  // A commit survives the process being killed; WAL with NORMAL syncs at checkpoints, not at every commit.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = sqlite.prepare(sql);
      if (statements.size > 500) statements.clear();
      statements.set(sql, statement);
    }
    return statement;
  };
  const direct: Db = {
    dialect: 'sqlite',
    all: async <T extends Row>(sql: string, params: readonly SqlValue[] = []) =>
      prepare(sql).all(...params) as T[],
    get: async <T extends Row>(sql: string, params: readonly SqlValue[] = []) =>
      prepare(sql).get(...params) as T | undefined,
    run: async (sql: string, params: readonly SqlValue[] = []) => prepare(sql).run(...params).changes,
    exec: async (sql: string) => {
      sqlite.exec(sql);
    },
    transaction: () => Promise.reject(new Error('nested transactions are not supported')),
    close: async () => undefined,
  };
  let queue: Promise<unknown> = Promise.resolve();
  const serialised = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work, work);
    queue = result.catch(() => undefined);
    return result;
  };
  return {
    dialect: 'sqlite',
    all: (sql, params) => serialised(() => direct.all(sql, params)),
    get: (sql, params) => serialised(() => direct.get(sql, params)),
    run: (sql, params) => serialised(() => direct.run(sql, params)),
    exec: (sql) => serialised(() => direct.exec(sql)),
    transaction: <T>(work: (tx: Db) => Promise<T>) =>
      serialised(async () => {
        sqlite.exec('BEGIN IMMEDIATE');
        try {
          const result = await work(direct);
          sqlite.exec('COMMIT');
          return result;
        } catch (error) {
          if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
          throw error;
        }
      }),
    close: () =>
      serialised(async () => {
        sqlite.close();
      }),
  };
}
