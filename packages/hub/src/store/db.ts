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
  /** Runs `work` in one transaction (serialisable on both); commits when it resolves, rolls back when it throws. */
  transaction<T>(work: (tx: Db) => Promise<T>): Promise<T>;
  /** Closes the connection or pool; waits for running queries. */
  close(): Promise<void>;
}
