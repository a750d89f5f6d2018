import { randomUUID } from 'node:crypto';
import type { Db, SqlValue } from '../store/db.js';

/** The events a webhook can subscribe to. */
export const WEBHOOK_EVENTS = [
  'advisory.published',
  'advisory.revised',
  'pack.published',
  'ticket.created',
  'ticket.replied',
  'ticket.state_changed',
] as const;
export type WebhookEventKind = (typeof WEBHOOK_EVENTS)[number];

/**
 * One event: `id` is the event's own stable id (the body's `id`; enqueuing it again adds nothing). Vendor-wide
 * unless `orgId` names the one organisation whose webhooks hear it.
 */
export interface WebhookEvent {
  kind: WebhookEventKind;
  id: string;
  at: string;
  data: Record<string, unknown>;
  orgId?: string;
}

/** The largest JSON body of one event: the most any endpoint is sent per delivery. */
export const MAX_EVENT_BYTES = 64 * 1024;
/** Deliveries inserted per statement. */
const ROWS_PER_INSERT = 100;

/** Delivery loops of this process, woken when an event is enqueued (`startWebhookDelivery` registers). */
export const localWakers = new Set<() => void>();

/**
 * Records an event and one pending delivery for each webhook, of every organisation, subscribed to its kind, in
 * the caller's transaction: the deliveries exist if and only if the caller's change commits. Everything in `data`
 * goes to every subscribed organisation (only `orgId`'s, when it is set). Throws on an unknown kind, an id over 200 characters, or a body over
 * MAX_EVENT_BYTES. Returns the number of deliveries added.
 */
export async function enqueueWebhookEvent(tx: Db, event: WebhookEvent): Promise<number> {
  if (!(WEBHOOK_EVENTS as readonly string[]).includes(event.kind))
    throw new Error(`unknown webhook event ${JSON.stringify(event.kind)}`);
  if (typeof event.id !== 'string' || event.id.length === 0 || event.id.length > 200)
    throw new Error('a webhook event id must have 1 to 200 characters');
  const at = new Date(event.at);
  if (Number.isNaN(at.getTime())) throw new Error(`webhook event ${event.id}: at is not a time`);
  const body = JSON.stringify({ id: event.id, event: event.kind, at: at.toISOString(), data: event.data });
  if (Buffer.byteLength(body) > MAX_EVENT_BYTES)
    throw new Error(`webhook event ${event.id}: over ${MAX_EVENT_BYTES} bytes`);
  const now = new Date().toISOString();
  const added = await tx.run(
    'INSERT INTO webhook_events (id, kind, at, body, enqueued_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
    [event.id, event.kind, at.toISOString(), body, now],
  );
  if (added === 0) return 0;
  const subscribed = await tx.all<{ webhook_id: string; org_id: string }>(
    `SELECT webhook_id, org_id FROM webhook_subscriptions WHERE event = ?${event.orgId ? ' AND org_id = ?' : ''}
     ORDER BY webhook_id`,
    event.orgId ? [event.kind, event.orgId] : [event.kind],
  );
  for (let from = 0; from < subscribed.length; from += ROWS_PER_INSERT) {
    const chunk = subscribed.slice(from, from + ROWS_PER_INSERT);
    const params: SqlValue[] = chunk.flatMap((s) => [
      randomUUID(),
      s.org_id,
      s.webhook_id,
      event.id,
      event.kind,
      'pending',
      now,
      now,
    ]);
    await tx.run(
      `INSERT INTO webhook_deliveries (id, org_id, webhook_id, event_id, event, status, created_at, next_attempt_at)
       VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      params,
    );
  }
  if (subscribed.length > 0) for (const wake of localWakers) wake();
  return subscribed.length;
}
