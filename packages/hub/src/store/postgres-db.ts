import pg from 'pg';
import type { Db, Row, SqlValue } from './db.js';

/** PostgreSQL error codes after which a serialisable transaction is simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);
/**
 * Attempts of one serialisable transaction; between them a random wait that doubles up to 250 ms, so dozens of
 * transactions on one hot row spread out instead of failing each other in lock step.
 */
const MAX_ATTEMPTS = 30;
const backoffMs = (attempt: number) => Math.random() * Math.min(250, 2 ** attempt);
const INT8_OID = 20;

/** `?` placeholders numbered `$1, $2, ...` for PostgreSQL; `?` inside quoted strings or identifiers is kept. */
export function numberPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      n += 1;
      out += `$${n}`;
    } else out += ch;
  }
  return out;
}

/**
 * A PostgreSQL store over a connection pool. Stateless: several hub processes may share one database.
 * `options.schema` puts every table in that schema (tests give each suite its own).
 */
export function openPostgresDb(url: string, options: { schema?: string; maxConnections?: number } = {}): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client that loses its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const on = (client: pg.Pool | pg.PoolClient): Db => ({
    dialect: 'postgres',
    all: async <T extends Row>(sql: string, params: readonly SqlValue[] = []) =>
      (await client.query(numberPlaceholders(sql), params as SqlValue[])).rows as T[],
    get: async <T extends Row>(sql: string, params: readonly SqlValue[] = []) =>
      (await client.query(numberPlaceholders(sql), params as SqlValue[])).rows[0] as T | undefined,
    run: async (sql: string, params: readonly SqlValue[] = []) =>
      (await client.query(numberPlaceholders(sql), params as SqlValue[])).rowCount ?? 0,
    exec: async (sql: string) => {
      await client.query(sql);
    },
    transaction: () => Promise.reject(new Error('nested transactions are not supported')),
    close: async () => undefined,
  });
  return {
    ...on(pool),
    transaction: async <T>(work: (tx: Db) => Promise<T>, options: { lock?: number } = {}): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        const client = await pool.connect();
        let locked = false;
        try {
          if (options.lock !== undefined) {
            await client.query('SELECT pg_advisory_lock($1)', [options.lock]);
            locked = true;
          }
          await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
          const result = await work(on(client));
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          const code = (error as { code?: string }).code;
          if (!code || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw error;
          await new Promise((r) => setTimeout(r, backoffMs(attempt)));
        } finally {
          if (locked)
            await client.query('SELECT pg_advisory_unlock($1)', [options.lock]).catch(() => undefined);
          client.release();
        }
      }
    },
    close: () => pool.end(),
  };
}
