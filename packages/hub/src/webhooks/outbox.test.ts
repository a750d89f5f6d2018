import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHubConfig } from '../config.js';
import type { HubDeps } from '../http/hub-env.js';
import type { Db } from '../store/db.js';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import { seedOrg } from '../testing/test-hub.js';
import { startWebhookDelivery } from './delivery-loop.js';
import { enqueueWebhookEvent, MAX_EVENT_BYTES, type WebhookEvent } from './outbox.js';
import { createWebhook } from './webhook-store.js';
import { type Receiver, selfSignedCertificate, startReceiver, testSettings } from './webhook-test-kit.js';

const certificate = selfSignedCertificate();
const settings = testSettings(certificate);
const count = async (db: Db, sql: string) => Number((await db.get<{ n: number }>(sql))?.n);

function event(kind: WebhookEvent['kind'], id: string): WebhookEvent {
  return { kind, id, at: '2026-12-03T10:00:00Z', data: { slug: 'threecx-2023' } };
}

describe.each(DIALECTS)('webhook outbox on %s', (dialect) => {
  let store: TestStore;
  let receiver: Receiver;
  const hooks: Record<string, string> = {};

  beforeAll(async () => {
    store = await openTestStore(dialect);
    receiver = await startReceiver(() => 200, certificate);
    const a = await seedOrg(store.db, 'A');
    const b = await seedOrg(store.db, 'B');
    const add = async (name: string, orgId: string, events: string[]) => {
      const made = await createWebhook(
        store.db,
        { kind: 'org', orgId },
        { url: `${receiver.url}/${name}`, events },
        { settings, now: new Date(), createdBy: 'test' },
      );
      hooks[made.info.id] = name;
    };
    await add('a-packs', a.orgId, ['pack.published']);
    await add('a-all', a.orgId, ['advisory.published', 'advisory.revised', 'pack.published']);
    await add('b-revised', b.orgId, ['advisory.revised']);
  });
  afterAll(async () => {
    await receiver.close();
    await store.cleanup();
  });

  it('adds one delivery per subscribed webhook of every organisation, and nothing for an id seen before', async () => {
    const n = await store.db.transaction((tx) =>
      enqueueWebhookEvent(tx, event('advisory.revised', 'adv:1#2')),
    );
    expect(n).toBe(2);
    const rows = await store.db.all<{ webhook_id: string; event: string }>(
      "SELECT webhook_id, event FROM webhook_deliveries WHERE event_id = 'adv:1#2'",
    );
    expect(rows.map((r) => hooks[r.webhook_id]).sort()).toEqual(['a-all', 'b-revised']);
    expect(
      await store.db.transaction((tx) => enqueueWebhookEvent(tx, event('advisory.revised', 'adv:1#2'))),
    ).toBe(0);
    expect(
      await count(store.db, "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE event_id = 'adv:1#2'"),
    ).toBe(2);
    expect(
      await store.db.transaction((tx) => enqueueWebhookEvent(tx, event('pack.published', 'pack:x#1'))),
    ).toBe(2);
  });

  it('leaves no event and no delivery when the enqueuing transaction rolls back', async () => {
    const before = await count(store.db, 'SELECT COUNT(*) AS n FROM webhook_deliveries');
    await expect(
      store.db.transaction(async (tx) => {
        expect(await enqueueWebhookEvent(tx, event('pack.published', 'pack:rolled-back#1'))).toBe(2);
        throw new Error('the pack upload failed after the enqueue');
      }),
    ).rejects.toThrow('the pack upload failed');
    expect(
      await count(store.db, "SELECT COUNT(*) AS n FROM webhook_events WHERE id = 'pack:rolled-back#1'"),
    ).toBe(0);
    expect(await count(store.db, 'SELECT COUNT(*) AS n FROM webhook_deliveries')).toBe(before);
  });

  it('refuses an unknown kind, an empty id, a bad time and an oversized body, failing the caller', async () => {
    const bad = [
      { ...event('pack.published', 'x'), kind: 'pack.deleted' as never },
      event('pack.published', ''),
      { ...event('pack.published', 'x'), at: 'yesterday' },
      { ...event('pack.published', 'x'), data: { blob: 'x'.repeat(MAX_EVENT_BYTES) } },
    ];
    for (const one of bad)
      await expect(store.db.transaction((tx) => enqueueWebhookEvent(tx, one))).rejects.toThrow();
    expect(await count(store.db, "SELECT COUNT(*) AS n FROM webhook_events WHERE id = 'x'")).toBe(0);
  });

  it('delivers each delivery exactly once with two delivery loops over two connections', async () => {
    await store.db.run('DELETE FROM webhook_deliveries');
    receiver.received.length = 0;
    const second = await store.reopen();
    const depsOf = (db: Db): HubDeps => ({
      db,
      config: defaultHubConfig('/nonexistent'),
      now: () => new Date(),
    });
    const loops = [
      startWebhookDelivery(depsOf(store.db), settings),
      startWebhookDelivery(depsOf(second), settings),
    ];
    let expected = 0;
    for (let i = 0; i < 20; i++)
      expected += await store.db.transaction((tx) =>
        enqueueWebhookEvent(tx, event('pack.published', `pack:race#${i}`)),
      );
    expect(expected).toBe(40);
    await receiver.waitFor(expected, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    await Promise.all(loops.map((l) => l.stop()));
    const ids = receiver.received.map((r) => String(r.headers['x-chainsweep-delivery']));
    expect(ids).toHaveLength(expected);
    expect(new Set(ids).size).toBe(expected);
    expect(
      await store.db.all("SELECT id FROM webhook_deliveries WHERE status <> 'delivered' OR attempts <> 1"),
    ).toEqual([]);
    expect(await count(store.db, 'SELECT COUNT(*) AS n FROM webhook_attempts')).toBe(expected);
  });
});
