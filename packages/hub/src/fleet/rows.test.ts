import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlValue } from '../store/db.js';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import { insertRows } from './rows.js';

describe.each(DIALECTS)('insertRows on %s', (dialect) => {
  let store: TestStore;
  beforeEach(async () => {
    store = await openTestStore(dialect);
  });
  afterEach(() => store.cleanup());

  it('stores 20,000 rows in one transaction and lets the event loop turn while it does', async () => {
    await store.db.exec('CREATE TABLE bulk (n INTEGER NOT NULL, label TEXT NOT NULL)');
    const rows: SqlValue[][] = Array.from({ length: 20_000 }, (_, n) => [n, `row ${n}`]);
    let turns = 0;
    let counting = true;
    const count = () => {
      if (!counting) return;
      turns += 1;
      setImmediate(count);
    };
    await store.db.transaction(async (tx) => {
      setImmediate(count);
      const before = turns;
      await insertRows(tx, 'bulk', ['n', 'label'], rows);
      counting = false;
      // 100 INSERTs of 200 rows: at least one turn of the event loop after each tenth.
      expect(turns - before).toBeGreaterThanOrEqual(9);
    });
    const stored = await store.db.get<{ n: number; total: number }>(
      'SELECT COUNT(*) AS n, SUM(n) AS total FROM bulk',
    );
    expect(Number(stored?.n)).toBe(20_000);
    expect(Number(stored?.total)).toBe((19_999 * 20_000) / 2);
  });
});
