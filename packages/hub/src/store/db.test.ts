import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import type { Db } from './db.js';
import { migrate, SchemaTooNewError } from './migrate.js';
import type { Migration } from './migration.js';
import { MIGRATIONS } from './migrations/index.js';
import { numberPlaceholders } from './postgres-db.js';

/** The test's own migrations come after the hub's, which a test store already has. */
const LAST = MIGRATIONS.at(-1)?.version ?? 0;
const TABLE: Migration = {
  version: LAST + 1,
  name: 'counter',
  up: 'CREATE TABLE counter (id TEXT PRIMARY KEY, n INTEGER NOT NULL)',
};

describe('numberPlaceholders', () => {
  it('numbers ? outside quotes only', () => {
    expect(numberPlaceholders(`SELECT ? , '?', "a?" FROM t WHERE x = ? AND y = 'it''s?'`)).toBe(
      `SELECT $1 , '?', "a?" FROM t WHERE x = $2 AND y = 'it''s?'`,
    );
  });
});

describe.each(DIALECTS)('store on %s', (dialect) => {
  let store: TestStore;
  let db: Db;
  beforeEach(async () => {
    store = await openTestStore(dialect);
    db = store.db;
    await migrate(db, [...MIGRATIONS, TABLE]);
  });
  afterEach(() => store.cleanup());

  it('binds parameters and counts changed rows', async () => {
    expect(await db.run('INSERT INTO counter (id, n) VALUES (?, ?), (?, ?)', ['a', 1, 'b', 2])).toBe(2);
    expect(await db.get('SELECT n FROM counter WHERE id = ?', ['b'])).toEqual({ n: 2 });
    expect(await db.all('SELECT COUNT(*) AS c FROM counter')).toEqual([{ c: 2 }]);
    expect(await db.get('SELECT n FROM counter WHERE id = ?', ['zzz'])).toBeUndefined();
  });

  it('rolls a transaction back when its work throws', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO counter (id, n) VALUES (?, ?)', ['a', 1]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db.all('SELECT * FROM counter')).toEqual([]);
  });

  it('undoes only the transactions that throw when many run at once', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        db.transaction(async (tx) => {
          await tx.run('INSERT INTO counter (id, n) VALUES (?, ?)', [`r${i}`, i]);
          if (i % 3 === 0) throw new Error(`boom ${i}`);
          await tx.run('UPDATE counter SET n = n + 100 WHERE id = ?', [`r${i}`]);
          return i;
        }),
      ),
    );
    expect(results).toEqual(
      results.map((_, i) =>
        i % 3 === 0
          ? { status: 'rejected', reason: new Error(`boom ${i}`) }
          : { status: 'fulfilled', value: i },
      ),
    );
    const rows = await db.all<{ id: string; n: number }>('SELECT id, n FROM counter ORDER BY n');
    expect(rows).toEqual(
      Array.from({ length: 30 }, (_, i) => i)
        .filter((i) => i % 3 !== 0)
        .map((i) => ({ id: `r${i}`, n: i + 100 })),
    );
  });

  it('still runs the transactions waiting behind one whose work ended the whole transaction', async () => {
    const [ended, ...rest] = await Promise.allSettled([
      db.transaction(async (tx) => {
        await tx.exec('ROLLBACK');
        throw new Error('gave up');
      }),
      ...[1, 2].map((i) =>
        db.transaction(async (tx) => tx.run('INSERT INTO counter (id, n) VALUES (?, ?)', [`w${i}`, i])),
      ),
    ]);
    expect(ended).toMatchObject({ status: 'rejected' });
    expect(rest).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'fulfilled', value: 1 },
    ]);
    expect(await db.all('SELECT id FROM counter ORDER BY id')).toEqual([{ id: 'w1' }, { id: 'w2' }]);
  }, 10_000);

  it('loses no increment under concurrent read-modify-write transactions', async () => {
    await db.run('INSERT INTO counter (id, n) VALUES (?, 0)', ['c']);
    const other = await store.reopen();
    const bump = (on: Db) =>
      on.transaction(async (tx) => {
        const row = await tx.get<{ n: number }>('SELECT n FROM counter WHERE id = ?', ['c']);
        await tx.run('UPDATE counter SET n = ? WHERE id = ?', [(row?.n ?? 0) + 1, 'c']);
      });
    await Promise.all(Array.from({ length: 40 }, (_, i) => bump(i % 2 ? db : other)));
    expect(await db.get('SELECT n FROM counter WHERE id = ?', ['c'])).toEqual({ n: 40 });
  });

  it('refuses a database newer than the code', async () => {
    const v2: Migration = { version: LAST + 2, name: 'more', up: 'CREATE TABLE more (id TEXT PRIMARY KEY)' };
    expect(await migrate(db, [...MIGRATIONS, TABLE, v2])).toBe(LAST + 2);
    await expect(migrate(db, [...MIGRATIONS, TABLE])).rejects.toBeInstanceOf(SchemaTooNewError);
  });

  it('applies each migration once when two processes start together', async () => {
    const v2: Migration = { version: LAST + 2, name: 'more', up: 'CREATE TABLE more (id TEXT PRIMARY KEY)' };
    const other = await store.reopen();
    await Promise.all([migrate(db, [...MIGRATIONS, TABLE, v2]), migrate(other, [...MIGRATIONS, TABLE, v2])]);
    expect(await db.all('SELECT version FROM schema_migrations ORDER BY version')).toEqual(
      [...MIGRATIONS, TABLE, v2].map((m) => ({ version: m.version })),
    );
  });
});
