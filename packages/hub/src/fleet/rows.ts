import type { Db, SqlValue } from '../store/db.js';

/** Rows per multi-row INSERT: well under PostgreSQL's 65,535 parameters for the widest fleet table. */
const BATCH_ROWS = 200;
/**
 * INSERTs between two turns of the event loop: SQLite runs a statement synchronously, so a report with 100,000
 * findings would otherwise hold every other request until all its rows are in.
 */
const BATCHES_PER_TURN = 10;

/** Inserts `rows` (values in `columns` order) into `table` with multi-row INSERTs, letting other work run between. */
export async function insertRows(
  tx: Db,
  table: string,
  columns: readonly string[],
  rows: readonly SqlValue[][],
): Promise<void> {
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += BATCH_ROWS) {
    if (i > 0 && (i / BATCH_ROWS) % BATCHES_PER_TURN === 0) await new Promise((done) => setImmediate(done));
    const batch = rows.slice(i, i + BATCH_ROWS);
    await tx.run(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${batch.map(() => tuple).join(', ')}`,
      batch.flat(),
    );
  }
}

/** Parses JSON text the store wrote itself. */
export function parseJson<T>(text: SqlValue | undefined, fallback: T): T {
  if (typeof text !== 'string') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** The UTC day (`YYYY-MM-DD`) of an ISO time. */
export function dayOf(iso: string): string {
  return iso.slice(0, 10);
}

/** The earlier of two ISO times (a claimed time is never later than when the hub received it). */
export function notAfter(claimed: string | undefined, limit: string): string {
  const time = claimed === undefined ? Number.NaN : Date.parse(claimed);
  if (Number.isNaN(time)) return limit;
  const iso = new Date(time).toISOString();
  return iso < limit ? iso : limit;
}

/** A 31-bit lock number for a key, so transactions on the same host run one after the other on PostgreSQL. */
export function lockOf(key: string): number {
  let hash = 2166136261;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 16777619);
  return (hash >>> 1) + 1_000_000_000;
}
