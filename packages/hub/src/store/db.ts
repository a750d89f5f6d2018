/** A value a query binds or returns; JSON is stored as text, booleans as 0/1, times as ISO-8601 text. */
export type SqlValue = string | number | bigint | null;

/** One row as the driver returns it, by column name. */
export type Row = Record<string, SqlValue>;

/**
 * The one database interface both stores implement (SQLite via better-sqlite3, PostgreSQL via pg). Queries are
 * written once with `?` placeholders in the SQL both dialects accept; the PostgreSQL implementation numbers them.
 */
export interface Db {
  readonly dialect: 'sqlite' | 'postgres';
  /** Every row of a query. */
  all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row of a query, or undefined. */
  get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `work` in one serialisable transaction; commits when it resolves, rolls back when it throws. On
   * PostgreSQL a serialisation conflict re-runs `work` (a few times), so `work` must only touch the database.
   * `lock` names a lock held from before the transaction's snapshot to its end, so transactions with the same
   * lock run one after the other across processes (SQLite transactions are exclusive already).
   */
  transaction<T>(work: (tx: Db) => Promise<T>, options?: { lock?: number }): Promise<T>;
  /** Closes the connection or pool; waits for running queries. */
  close(): Promise<void>;
}
