import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';

describe.each(DIALECTS)('fleet migration on %s', (dialect) => {
  let store: TestStore;
  beforeEach(async () => {
    store = await openTestStore(dialect);
  });
  afterEach(() => store.cleanup());

  it('creates the fleet tables with auto-numbered finding ids', async () => {
    const { db } = store;
    await db.run("INSERT INTO orgs (id, name, created_at) VALUES ('o1', 'one', '2026-12-01T00:00:00.000Z')");
    await db.run(
      `INSERT INTO hosts (id, org_id, claimed_host_id, hostname, hostname_key, state, base_state, state_since)
       VALUES ('h1', 'o1', 'c1', 'A', 'a', 'new', 'new', 'x')`,
    );
    await expect(
      db.run(
        `INSERT INTO hosts (id, org_id, claimed_host_id, hostname, hostname_key, state, base_state, state_since)
         VALUES ('h2', 'o1', 'c1', 'B', 'b', 'new', 'new', 'x')`,
      ),
    ).rejects.toThrow();
    await db.run(
      `INSERT INTO host_events (org_id, host_id, at, kind, detail) VALUES ('o1', 'h1', 't', 'renamed', '{}'), ('o1', 'h1', 't', 'renamed', '{}')`,
    );
    expect(await db.all('SELECT id FROM host_events ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
  });
});
