import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Db, Row, SqlValue } from './db.js';

/** A plain SELECT (no `INSERT ... RETURNING`): it can go to the read-only connection. */
const READ_ONLY = /^\s*SELECT\b/i;

/** Most transactions one group commit takes. */
const MAX_GROUP = 64;

interface GroupedWork {
  work: (tx: Db) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Open files by path: a second open in the same process shares the connection and its queue. */
const shared = new Map<string, { db: Db; users: number }>();

/**
 * The embedded store: one SQLite file in WAL mode. better-sqlite3 is synchronous, so an async transaction is
 * serialised with every other write by a queue: nothing interleaves with an open transaction. Transactions
 * that wait are committed together (group commit), each in a savepoint of its own; reads outside a transaction
 * go to a read-only connection and see the last commit. Opening the
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
  tune(sqlite);
  // Ingest dirties many index pages per report: the WAL is written back every 10,000 pages (~40 MiB) instead of
  // every 1,000, so a page rewritten by many reports is checkpointed once.
  sqlite.pragma('wal_autocheckpoint = 10000');
  // Reads outside a transaction use a second, read-only connection: they see the last commit and never wait for
  // an open transaction (WAL readers do not block the writer, nor it them).
  const reader = new Database(file, { readonly: true });
  tune(reader);
  const prepare = statementCache(sqlite);
  const prepareRead = statementCache(reader);
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
  // Group commit: the transactions waiting when one group starts, and those that arrive in the next turn of the
  // event loop, commit together, each in a savepoint of its own (one that throws is undone alone). A caller's
  // promise settles only after the COMMIT.
  const waiting: GroupedWork[] = [];
  const commitGroup = async () => {
    try {
      await runGroup();
    } finally {
      // Whatever ended this group, the transactions still waiting get the next one.
      if (waiting.length > 0) void serialised(commitGroup);
    }
  };
  const runGroup = async () => {
    if (waiting.length === 0) return;
    try {
      sqlite.exec('BEGIN IMMEDIATE');
    } catch (error) {
      for (const item of waiting.splice(0)) item.reject(error);
      return;
    }
    const done: { item: GroupedWork; value: unknown }[] = [];
    const failed: { item: GroupedWork; error: unknown }[] = [];
    const group: GroupedWork[] = [];
    let yielded = false;
    while (group.length < MAX_GROUP) {
      const item = waiting.shift();
      if (!item) {
        if (yielded) break;
        yielded = true;
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      group.push(item);
      sqlite.exec('SAVEPOINT unit');
      try {
        const value = await item.work(direct);
        sqlite.exec('RELEASE unit');
        done.push({ item, value });
      } catch (error) {
        if (!sqlite.inTransaction) {
          // The whole transaction was given up (a full disk, an I/O error): nothing of the group is stored.
          for (const other of group) other.reject(error);
          return;
        }
        sqlite.exec('ROLLBACK TO unit');
        sqlite.exec('RELEASE unit');
        failed.push({ item, error });
      }
    }
    try {
      sqlite.exec('COMMIT');
    } catch (error) {
      if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
      for (const item of group) item.reject(error);
      return;
    }
    for (const { item, value } of done) item.resolve(value);
    for (const { item, error } of failed) item.reject(error);
  };
  let queue: Promise<unknown> = Promise.resolve();
  const serialised = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work, work);
    queue = result.catch(() => undefined);
    return result;
  };
  return {
    dialect: 'sqlite',
    all: <T extends Row>(sql: string, params: readonly SqlValue[] = []) =>
      READ_ONLY.test(sql)
        ? Promise.resolve(prepareRead(sql).all(...params) as T[])
        : serialised(() => direct.all<T>(sql, params)),
    get: <T extends Row>(sql: string, params: readonly SqlValue[] = []) =>
      READ_ONLY.test(sql)
        ? Promise.resolve(prepareRead(sql).get(...params) as T | undefined)
        : serialised(() => direct.get<T>(sql, params)),
    run: (sql, params) => serialised(() => direct.run(sql, params)),
    exec: (sql) => serialised(() => direct.exec(sql)),
    transaction: <T>(work: (tx: Db) => Promise<T>) =>
      new Promise<T>((resolve, reject) => {
        waiting.push({ work, resolve, reject } as GroupedWork);
        if (waiting.length === 1) void serialised(commitGroup);
      }),
    close: () =>
      serialised(async () => {
        reader.close();
        sqlite.close();
      }),
  };
}

/** Settings both connections share: a wait for locks, a 64 MiB page cache, temporary B-trees in memory. */
function tune(connection: Database.Database): void {
  connection.pragma('busy_timeout = 5000');
  connection.pragma('cache_size = -65536');
  connection.pragma('temp_store = MEMORY');
}

/** Prepared statements of one connection, by SQL text (cleared past 500). */
function statementCache(connection: Database.Database): (sql: string) => Database.Statement {
  const statements = new Map<string, Database.Statement>();
  return (sql) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = connection.prepare(sql);
      if (statements.size > 500) statements.clear();
      statements.set(sql, statement);
    }
    return statement;
  };
}
