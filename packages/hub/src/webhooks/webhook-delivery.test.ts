import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultHubConfig } from '../config.js';
import type { HubDeps } from '../http/hub-env.js';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import { type SeededOrg, seedOrg, type TestApp, testApp } from '../testing/test-hub.js';
import { startWebhookDelivery } from './delivery-loop.js';
import { enqueueWebhookEvent, type WebhookEvent } from './outbox.js';
import { webhookRoutes } from './webhook-routes.js';
import type { WebhookSettings } from './webhook-settings.js';
import type { DeliveryInfo } from './webhook-store.js';
import {
  type Answer,
  type Receiver,
  selfSignedCertificate,
  startReceiver,
  testSettings,
} from './webhook-test-kit.js';

const certificate = selfSignedCertificate();
let sequence = 0;

function packEvent(data: Record<string, unknown> = { packId: 'threecx-2023' }): WebhookEvent {
  sequence += 1;
  return { kind: 'pack.published', id: `pack:threecx-2023#${sequence}`, at: new Date().toISOString(), data };
}

/** The receiver's check of a delivery, as its docs tell it: HMAC-SHA256 of "<timestamp>.<body>", constant time. */
function verifies(secret: string, headers: Record<string, unknown>, body: string): boolean {
  const expected = `sha256=${createHmac('sha256', secret).update(`${headers['x-chainsweep-timestamp']}.${body}`).digest('hex')}`;
  const got = String(headers['x-chainsweep-signature']);
  return got.length === expected.length && timingSafeEqual(Buffer.from(got), Buffer.from(expected));
}

describe.each(DIALECTS)('webhook delivery on %s', (dialect) => {
  let store: TestStore;
  let org: SeededOrg;
  let deps: HubDeps;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    store = await openTestStore(dialect);
    org = await seedOrg(store.db, 'Acme');
    deps = { db: store.db, config: defaultHubConfig('/nonexistent'), now: () => new Date() };
  });
  afterEach(async () => {
    for (const clean of cleanups.splice(0).reverse()) await clean();
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
    logs.length = 0;
    await store.db.run('DELETE FROM webhook_attempts');
    await store.db.run('DELETE FROM webhook_deliveries');
    await store.db.run('DELETE FROM webhook_subscriptions');
    await store.db.run('DELETE FROM webhooks');
  });
  afterAll(() => store.cleanup());

  async function receiver(answer: (n: number) => Answer = () => 200): Promise<Receiver> {
    const r = await startReceiver(answer, certificate);
    cleanups.push(() => r.close());
    return r;
  }

  function hub(settings: WebhookSettings): TestApp {
    return testApp(store.db, { extra: [webhookRoutes(deps, settings)] });
  }

  const logs: Record<string, unknown>[] = [];
  function deliver(settings: WebhookSettings) {
    const loop = startWebhookDelivery(deps, settings, (entry) => logs.push(entry));
    cleanups.push(() => loop.stop());
    return loop;
  }

  async function register(app: TestApp, url: string, events = ['pack.published']) {
    const res = await app.app.request('/api/v1/webhooks', {
      method: 'POST',
      headers: { authorization: `Bearer ${org.apiTokens['org-admin']}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url, events }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; secret: string };
  }

  async function deliveries(app: TestApp, id: string): Promise<DeliveryInfo[]> {
    const res = await app.app.request(`/api/v1/webhooks/${id}/deliveries`, {
      headers: { authorization: `Bearer ${org.apiTokens['org-admin']}` },
    });
    return ((await res.json()) as { deliveries: DeliveryInfo[] }).deliveries;
  }

  async function until<T>(what: () => Promise<T>, ok: (value: T) => boolean, ms = 5000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await what();
      if (ok(value)) return value;
      if (Date.now() > deadline) throw new Error(`not reached in ${ms} ms: ${JSON.stringify(value)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('delivers a published event over HTTPS within 2 s, signed with the secret, with every header', async () => {
    const settings = testSettings(certificate, { pollMs: 1000 });
    const app = hub(settings);
    const endpoint = await receiver();
    const webhook = await register(app, endpoint.url);
    deliver(settings);
    const event = packEvent({ packId: 'threecx-2023', sequence: 7, title: 'ünïcode "quoted" </script>' });
    const sent = Date.now();
    await store.db.transaction((tx) => enqueueWebhookEvent(tx, event));
    const [got] = await endpoint.waitFor(1, 2000);
    if (!got) throw new Error('nothing received');
    expect(got.at - sent).toBeLessThan(2000);
    expect(got.path).toBe('/hook');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['user-agent']).toBe('chainsweep-hub');
    expect(got.headers['x-chainsweep-event']).toBe('pack.published');
    expect(Number(got.headers['x-chainsweep-timestamp'])).toBeCloseTo(Date.now() / 1000, -1);
    expect(verifies(webhook.secret, got.headers, got.body)).toBe(true);
    expect(verifies(`${webhook.secret}x`, got.headers, got.body)).toBe(false);
    expect(JSON.parse(got.body)).toEqual({
      id: event.id,
      event: 'pack.published',
      at: event.at,
      data: event.data,
    });
    const [log] = await until(
      () => deliveries(app, webhook.id),
      (d) => d[0]?.status === 'delivered',
    );
    expect(got.headers['x-chainsweep-delivery']).toBe(log?.id);
    expect(log).toMatchObject({
      eventId: event.id,
      attempts: 1,
      lastStatusCode: 200,
      lastError: null,
      nextAttemptAt: null,
    });
    expect(log?.log).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200, error: null })]);
  });

  it('delivers right after an enqueue in this process, without waiting for the next poll', async () => {
    const settings = testSettings(certificate, { pollMs: 60_000 });
    const app = hub(settings);
    const endpoint = await receiver();
    await register(app, endpoint.url);
    deliver(settings);
    await new Promise((r) => setTimeout(r, 100));
    const sent = Date.now();
    await store.db.transaction((tx) => enqueueWebhookEvent(tx, packEvent()));
    const [got] = await endpoint.waitFor(1, 1000);
    expect((got?.at ?? Infinity) - sent).toBeLessThan(1000);
  });

  it('deletes finished deliveries and their attempts after 30 days, keeping pending ones', async () => {
    const settings = testSettings(certificate);
    const app = hub(settings);
    const webhook = await register(app, 'https://127.0.0.1:9/old');
    await store.db.transaction((tx) => enqueueWebhookEvent(tx, packEvent()));
    await store.db.transaction((tx) => enqueueWebhookEvent(tx, packEvent()));
    const old = new Date(Date.now() - 31 * 86_400_000).toISOString();
    const [done, waiting] = await store.db.all<{ id: string }>(
      'SELECT id FROM webhook_deliveries ORDER BY id',
    );
    await store.db.run(
      "UPDATE webhook_deliveries SET status = 'delivered', attempts = 1, finished_at = ? WHERE id = ?",
      [old, done?.id ?? ''],
    );
    await store.db.run(
      'INSERT INTO webhook_attempts (delivery_id, attempt, org_id, started_at, duration_ms, status_code) VALUES (?, 1, ?, ?, 5, 200)',
      [done?.id ?? '', org.orgId, old],
    );
    await store.db.run('UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?', [
      new Date(Date.now() + 3_600_000).toISOString(),
      waiting?.id ?? '',
    ]);
    deliver(settings);
    const left = await until(
      () => deliveries(app, webhook.id),
      (d) => d.length === 1,
    );
    expect(left.map((d) => [d.id, d.status])).toEqual([[waiting?.id, 'pending']]);
    expect(await store.db.all('SELECT delivery_id FROM webhook_attempts')).toEqual([]);
  });

  it('retries an endpoint that answers 500, then delivers; the log shows both attempts', async () => {
    const settings = testSettings(certificate);
    const app = hub(settings);
    const endpoint = await receiver((n) => (n === 0 ? 500 : 200));
    const webhook = await register(app, endpoint.url);
    deliver(settings);
    await store.db.transaction((tx) => enqueueWebhookEvent(tx, packEvent()));
    const [first, second] = await endpoint.waitFor(2, 3000);
    expect(first?.headers['x-chainsweep-delivery']).toBe(second?.headers['x-chainsweep-delivery']);
    expect(first?.body).toBe(second?.body);
    expect(verifies(webhook.secret, second?.headers ?? {}, second?.body ?? '')).toBe(true);
    const [log] = await until(
      () => deliveries(app, webhook.id),
      (d) => d[0]?.status === 'delivered',
    );
    expect(log?.attempts).toBe(2);
    expect(log?.log.map((a) => [a.attempt, a.statusCode, a.error])).toEqual([
      [1, 500, 'the endpoint answered 500'],
      [2, 200, null],
    ]);
  });

  it('gives up after the last attempt and records it failed', async () => {
    const settings = testSettings(certificate, { backoffMs: [50, 50] });
    const app = hub(settings);
    const endpoint = await receiver(() => 503);
    const webhook = await register(app, endpoint.url);
    deliver(settings);
    await store.db.transaction((tx) => enqueueWebhookEvent(tx, packEvent()));
    const [log] = await until(
      () => deliveries(app, webhook.id),
      (d) => d[0]?.status === 'failed',
    );
    expect(log).toMatchObject({ attempts: 3, lastStatusCode: 503, nextAttemptAt: null });
    expect(log?.finishedAt).not.toBeNull();
    await new Promise((r) => setTimeout(r, 300));
    expect(endpoint.received).toHaveLength(3);
  });

  it('does not let a hanging endpoint slow requests or other webhooks; its attempt times out and is retried', async () => {
    const settings = testSettings(certificate, { timeoutMs: 1500, backoffMs: [200, 200] });
    const app = hub(settings);
    const hanging = await receiver(() => 'hang');
    const healthy = await receiver();
    const stuck = await register(app, hanging.url);
    const fine = await register(app, healthy.url);
    deliver(settings);
    // Several events, so the hanging endpoint has more deliveries waiting than it may hold slots.
    for (let i = 0; i < 5; i++) await store.db.transaction((tx) => enqueueWebhookEvent(tx, packEvent()));
    await hanging.waitFor(1, 2000);
    const started = Date.now();
    await healthy.waitFor(5, 2000);
    expect(Date.now() - started).toBeLessThan(2000);
    const asked = Date.now();
    const res = await app.app.request('/api/v1/webhooks', {
      headers: { authorization: `Bearer ${org.apiTokens['org-admin']}` },
    });
    expect(res.status).toBe(200);
    // Well under the 1.5 s an attempt hangs for: a request that waited on delivery could not answer in time.
    expect(Date.now() - asked).toBeLessThan(1000);
    const log = await until(
      () => deliveries(app, stuck.id),
      (d) => d.some((one) => one.log.length >= 1 && one.attempts >= 2),
    );
    const retried = log.find((one) => one.attempts >= 2) as DeliveryInfo;
    expect(retried.log[0]).toMatchObject({ attempt: 1, statusCode: null, error: 'timed out after 1500 ms' });
    expect(retried.log[0]?.durationMs).toBeGreaterThanOrEqual(1400);
    expect(retried.log[0]?.durationMs).toBeLessThan(2500);
    const good = await deliveries(app, fine.id);
    expect(good.map((d) => d.status)).toEqual(Array(5).fill('delivered'));
  });

  it('connects by name to the address its own lookup checked', async () => {
    const settings = testSettings(certificate);
    const app = hub(settings);
    const endpoint = await receiver();
    const webhook = await register(app, endpoint.url.replace('127.0.0.1', 'localhost'));
    deliver(settings);
    await store.db.transaction((tx) => enqueueWebhookEvent(tx, packEvent()));
    const [got] = await endpoint.waitFor(1, 2000);
    expect(got?.headers.host).toMatch(/^localhost:\d+$/);
    expect(verifies(webhook.secret, got?.headers ?? {}, got?.body ?? '')).toBe(true);
  });

  it('drops the attempt in flight of a webhook deleted meanwhile, with nothing left behind', async () => {
    const settings = testSettings(certificate, { timeoutMs: 500 });
    const app = hub(settings);
    const hanging = await receiver(() => 'hang');
    const webhook = await register(app, hanging.url);
    deliver(settings);
    await store.db.transaction((tx) => enqueueWebhookEvent(tx, packEvent()));
    await hanging.waitFor(1, 2000);
    const res = await app.app.request(`/api/v1/webhooks/${webhook.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${org.apiTokens['org-admin']}` },
    });
    expect(res.status).toBe(204);
    await until(
      async () => logs.filter((l) => l.msg === 'webhook attempt').length,
      (n) => n === 1,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(await store.db.all('SELECT id FROM webhook_deliveries')).toEqual([]);
    expect(await store.db.all('SELECT delivery_id FROM webhook_attempts')).toEqual([]);
    expect(hanging.received).toHaveLength(1);
  });

  it('logs each attempt without the secret or the body', async () => {
    const settings = testSettings(certificate);
    const app = hub(settings);
    const endpoint = await receiver();
    const webhook = await register(app, endpoint.url);
    deliver(settings);
    await store.db.transaction((tx) => enqueueWebhookEvent(tx, packEvent({ marker: 'body-marker' })));
    await endpoint.waitFor(1, 2000);
    const [entry] = await until(
      async () => logs.filter((l) => l.msg === 'webhook attempt'),
      (l) => l.length === 1,
    );
    expect(entry).toMatchObject({ level: 'info', webhook: webhook.id, attempt: 1, status: 200 });
    expect(JSON.stringify(logs)).not.toContain(webhook.secret);
    expect(JSON.stringify(logs)).not.toContain('body-marker');
  });

  it('checks the address again at delivery time and refuses one no longer allowed', async () => {
    const allowing = testSettings(certificate);
    const app = hub(allowing);
    const endpoint = await receiver();
    const literal = await register(app, endpoint.url);
    const named = await register(app, endpoint.url.replace('127.0.0.1', 'localhost'));
    deliver({ ...allowing, allowPrivateAddresses: false, backoffMs: [] });
    await store.db.transaction((tx) => enqueueWebhookEvent(tx, packEvent()));
    const [byLiteral] = await until(
      () => deliveries(app, literal.id),
      (d) => d[0]?.status === 'failed',
    );
    const [byName] = await until(
      () => deliveries(app, named.id),
      (d) => d[0]?.status === 'failed',
    );
    expect(byLiteral?.lastError).toContain('127.0.0.1 is not a public address');
    expect(byName?.lastError).toMatch(
      /localhost resolves to (127\.0\.0\.1|::1), which is not a public address/,
    );
    expect(endpoint.received).toHaveLength(0);
  });

  it('refuses a certificate it does not trust', async () => {
    const untrusting = { ...testSettings(certificate), ca: [] as string[], backoffMs: [] };
    const app = hub(untrusting);
    const endpoint = await receiver();
    const webhook = await register(app, endpoint.url);
    deliver(untrusting);
    await store.db.transaction((tx) => enqueueWebhookEvent(tx, packEvent()));
    const [log] = await until(
      () => deliveries(app, webhook.id),
      (d) => d[0]?.status === 'failed',
    );
    expect(log?.lastError).toMatch(/self.signed|certificate/i);
    expect(endpoint.received).toHaveLength(0);
  });

  it('counts a redirect as a failure and does not follow it', async () => {
    const settings = testSettings(certificate, { backoffMs: [] });
    const app = hub(settings);
    const target = await receiver();
    const redirecting = await startReceiver(() => 307, certificate, { location: target.url });
    cleanups.push(() => redirecting.close());
    const webhook = await register(app, redirecting.url);
    deliver(settings);
    await store.db.transaction((tx) => enqueueWebhookEvent(tx, packEvent()));
    const [log] = await until(
      () => deliveries(app, webhook.id),
      (d) => d[0]?.status === 'failed',
    );
    expect(log).toMatchObject({ lastStatusCode: 307, lastError: 'the endpoint answered 307' });
    expect(redirecting.received).toHaveLength(1);
    expect(target.received).toHaveLength(0);
  });

  it('takes over a delivery whose claimant stopped (its claim expired) and delivers it once', async () => {
    const settings = testSettings(certificate);
    const app = hub(settings);
    const endpoint = await receiver();
    const webhook = await register(app, endpoint.url);
    await store.db.transaction((tx) => enqueueWebhookEvent(tx, packEvent()));
    const past = new Date(Date.now() - 1000).toISOString();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    await store.db.run(
      "UPDATE webhook_deliveries SET claimed_by = 'crashed', claim_expires_at = ?, attempts = 1",
      [future],
    );
    const loop = deliver(settings);
    await new Promise((r) => setTimeout(r, 400));
    expect(endpoint.received).toHaveLength(0);
    await store.db.run('UPDATE webhook_deliveries SET claim_expires_at = ?', [past]);
    await endpoint.waitFor(1, 2000);
    const [log] = await until(
      () => deliveries(app, webhook.id),
      (d) => d[0]?.status === 'delivered',
    );
    expect(log?.attempts).toBe(2);
    await loop.stop();
    expect(endpoint.received).toHaveLength(1);
  });
});
