/** Errors by which a store says it is too contended right now: PostgreSQL serialisation failure, deadlock,
 * out of predicate locks; SQLite busy. The request may simply be sent again. */
const BUSY_CODES = new Set(['40001', '40P01', '53200', 'SQLITE_BUSY']);

/** True when `error` means the store is busy (after its own retries), not that anything is wrong. */
export function isStoreBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && BUSY_CODES.has(code);
}
