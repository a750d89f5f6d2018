import { randomUUID } from 'node:crypto';
import { targetOrg } from '../auth/orgs.js';
import { lockOf } from '../fleet/rows.js';
import { optionalLineField } from '../http/fields.js';
import { HttpError } from '../http/http-error.js';
import type { Db } from '../store/db.js';
import { scopeFilter } from '../store/scope-sql.js';
import type { Scope } from '../tenancy.js';
import { WEBHOOK_EVENTS, type WebhookEventKind } from './outbox.js';
import { newSigningSecret, sealSecret } from './secret-box.js';
import type { WebhookSettings } from './webhook-settings.js';
import { checkEndpointHost, webhookUrlField } from './webhook-url.js';

/** The most webhooks one organisation may have. */
export const MAX_WEBHOOKS_PER_ORG = 20;
/** Deliveries one log page lists, newest first. */
export const DELIVERY_PAGE = 100;

/** A webhook as listed: never its secret. */
export interface WebhookInfo {
  id: string;
  orgId: string;
  url: string;
  events: WebhookEventKind[];
  description: string;
  createdAt: string;
}

/** A webhook just registered: `secret` is shown this once. */
export interface NewWebhook {
  secret: string;
  info: WebhookInfo;
}

/** One delivery of an event to a webhook, with every attempt so far. */
export interface DeliveryInfo {
  id: string;
  eventId: string;
  event: WebhookEventKind;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  finishedAt: string | null;
  log: {
    attempt: number;
    startedAt: string;
    durationMs: number;
    statusCode: number | null;
    error: string | null;
  }[];
}

/** What a caller asks for; validated here. */
export interface WebhookRequest {
  orgId?: unknown;
  url?: unknown;
  events?: unknown;
  description?: unknown;
}

/**
 * Registers a webhook in an organisation of the scope: the URL checked (`webhookUrlField`, and its host resolved
 * to addresses the settings allow), events a non-empty subset of WEBHOOK_EVENTS, at most MAX_WEBHOOKS_PER_ORG per
 * organisation (409). The signing secret is sealed with the settings' key and returned this once.
 */
export async function createWebhook(
  db: Db,
  scope: Scope,
  request: WebhookRequest,
  context: { settings: WebhookSettings; now: Date; createdBy: string },
): Promise<NewWebhook> {
  const url = webhookUrlField(request.url, context.settings);
  const events = eventsField(request.events);
  const description = optionalLineField(request.description, 'description', 500) ?? '';
  const orgId = await targetOrg(db, scope, request.orgId);
  await checkEndpointHost(url, context.settings);
  const id = randomUUID();
  const secret = newSigningSecret();
  const info: WebhookInfo = {
    id,
    orgId,
    url: url.href,
    events,
    description,
    createdAt: context.now.toISOString(),
  };
  await db.transaction(
    async (tx) => {
      const count = await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM webhooks WHERE org_id = ?', [
        orgId,
      ]);
      if (Number(count?.n ?? 0) >= MAX_WEBHOOKS_PER_ORG)
        throw new HttpError(
          409,
          'LIMIT',
          `url: the organisation has ${MAX_WEBHOOKS_PER_ORG} webhooks, the most it may have; delete one first`,
          { field: 'url' },
        );
      await tx.run(
        'INSERT INTO webhooks (id, org_id, url, description, sealed_secret, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [
          id,
          orgId,
          info.url,
          description,
          sealSecret(context.settings.secretKey, id, secret),
          info.createdAt,
          context.createdBy,
        ],
      );
      for (const event of events)
        await tx.run('INSERT INTO webhook_subscriptions (webhook_id, org_id, event) VALUES (?, ?, ?)', [
          id,
          orgId,
          event,
        ]);
    },
    { lock: lockOf(`webhooks:${orgId}`) },
  );
  return { secret, info };
}

/** The webhooks of a scope, oldest first (never their secrets). */
export async function listWebhooks(db: Db, scope: Scope): Promise<WebhookInfo[]> {
  const where = scopeFilter(scope, 'w.org_id');
  const rows = await db.all<{
    id: string;
    org_id: string;
    url: string;
    description: string;
    created_at: string;
  }>(
    `SELECT w.id, w.org_id, w.url, w.description, w.created_at FROM webhooks w WHERE ${where.sql} ORDER BY w.created_at, w.id`,
    where.params,
  );
  const subs = await db.all<{ webhook_id: string; event: WebhookEventKind }>(
    `SELECT s.webhook_id, s.event FROM webhook_subscriptions s WHERE ${scopeFilter(scope, 's.org_id').sql}`,
    where.params,
  );
  return rows.map((row) => ({
    id: row.id,
    orgId: row.org_id,
    url: row.url,
    events: WEBHOOK_EVENTS.filter((e) => subs.some((s) => s.webhook_id === row.id && s.event === e)),
    description: row.description,
    createdAt: row.created_at,
  }));
}

/** Deletes a webhook of the scope with its delivery log (pending deliveries are never sent); 404 otherwise. */
export async function deleteWebhook(db: Db, scope: Scope, id: string): Promise<void> {
  const where = scopeFilter(scope);
  const deleted = await db.transaction(async (tx) => {
    const own = await tx.get<{ org_id: string }>(
      `SELECT org_id FROM webhooks WHERE id = ? AND ${where.sql}`,
      [id, ...where.params],
    );
    if (!own) return false;
    const params = [id, own.org_id];
    await tx.run(
      'DELETE FROM webhook_attempts WHERE org_id = ? AND delivery_id IN (SELECT id FROM webhook_deliveries WHERE webhook_id = ?)',
      [own.org_id, id],
    );
    await tx.run('DELETE FROM webhook_deliveries WHERE webhook_id = ? AND org_id = ?', params);
    await tx.run('DELETE FROM webhook_subscriptions WHERE webhook_id = ? AND org_id = ?', params);
    await tx.run('DELETE FROM webhooks WHERE id = ? AND org_id = ?', params);
    return true;
  });
  if (!deleted) throw new HttpError(404, 'NOT_FOUND', 'no such webhook');
}

type DeliveryRow = {
  id: string;
  event_id: string;
  event: WebhookEventKind;
  status: DeliveryInfo['status'];
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  finished_at: string | null;
};

/** The newest DELIVERY_PAGE deliveries of a webhook of the scope, each with its attempts; 404 for another's. */
export async function listDeliveries(db: Db, scope: Scope, webhookId: string): Promise<DeliveryInfo[]> {
  const where = scopeFilter(scope);
  const own = await db.get<{ org_id: string }>(`SELECT org_id FROM webhooks WHERE id = ? AND ${where.sql}`, [
    webhookId,
    ...where.params,
  ]);
  if (!own) throw new HttpError(404, 'NOT_FOUND', 'no such webhook');
  const rows = await db.all<DeliveryRow>(
    `SELECT id, event_id, event, status, attempts, last_status_code, last_error, created_at, last_attempt_at,
       next_attempt_at, finished_at
     FROM webhook_deliveries WHERE webhook_id = ? AND org_id = ? ORDER BY created_at DESC, id LIMIT ?`,
    [webhookId, own.org_id, DELIVERY_PAGE],
  );
  const attempts =
    rows.length === 0
      ? []
      : await db.all<{
          delivery_id: string;
          attempt: number;
          started_at: string;
          duration_ms: number;
          status_code: number | null;
          error: string | null;
        }>(
          `SELECT delivery_id, attempt, started_at, duration_ms, status_code, error FROM webhook_attempts
           WHERE org_id = ? AND delivery_id IN (${rows.map(() => '?').join(', ')}) ORDER BY delivery_id, attempt`,
          [own.org_id, ...rows.map((r) => r.id)],
        );
  return rows.map((row) => ({
    id: row.id,
    eventId: row.event_id,
    event: row.event,
    status: row.status,
    attempts: Number(row.attempts),
    lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
    lastError: row.last_error,
    createdAt: row.created_at,
    lastAttemptAt: row.last_attempt_at,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at : null,
    finishedAt: row.finished_at,
    log: attempts
      .filter((a) => a.delivery_id === row.id)
      .map((a) => ({
        attempt: Number(a.attempt),
        startedAt: a.started_at,
        durationMs: Number(a.duration_ms),
        statusCode: a.status_code === null ? null : Number(a.status_code),
        error: a.error,
      })),
  }));
}

/** A non-empty list of distinct known event names: 400 naming `events` otherwise. */
function eventsField(value: unknown): WebhookEventKind[] {
  const bad = (why: string) => new HttpError(400, 'INVALID', `events ${why}`, { field: 'events' });
  if (!Array.isArray(value) || value.length === 0)
    throw bad(`must be a non-empty list of ${WEBHOOK_EVENTS.join(', ')}`);
  if (value.length > WEBHOOK_EVENTS.length * 2) throw bad('has too many entries');
  for (const one of value)
    if (typeof one !== 'string' || !(WEBHOOK_EVENTS as readonly string[]).includes(one))
      throw bad(
        `must only hold ${WEBHOOK_EVENTS.join(', ')}; ${typeof one === 'string' ? JSON.stringify(one.slice(0, 50)) : `a ${one === null ? 'null' : typeof one}`} is not one`,
      );
  return WEBHOOK_EVENTS.filter((e) => value.includes(e));
}
