import { randomUUID } from 'node:crypto';
import { singleFlight } from '../background/single-flight.js';
import type { HubDeps } from '../http/hub-env.js';
import { type HubLog, jsonLineLog } from '../http/request-log.js';
import type { Db } from '../store/db.js';
import { localWakers } from './outbox.js';
import { postWebhook } from './post-webhook.js';
import { openSecret } from './secret-box.js';
import {
  DEFAULT_BACKOFF_MS,
  DEFAULT_CONCURRENCY,
  DEFAULT_TIMEOUT_MS,
  type WebhookSettings,
} from './webhook-settings.js';

/** Attempts of one webhook in flight at once in one process: a slow endpoint holds at most these slots. */
export const PER_WEBHOOK_CONCURRENCY = 2;
/** How long a claim outlives the attempt's timeout before another process may take the delivery over. */
export const CLAIM_GRACE_MS = 60_000;
/** Finished deliveries (and events left with none) are deleted after this long. */
export const DELIVERY_LOG_DAYS = 30;
const PRUNE_EVERY_MS = 3_600_000;
/** Delays after an enqueue in this process at which the outbox is polled (its transaction may still be committing). */
const WAKE_DELAYS_MS = [20, 250];

type Claimed = {
  id: string;
  webhook_id: string;
  event: string;
  attempts: number;
  url: string;
  sealed_secret: string;
  body: string;
};

/**
 * Starts delivering the outbox: polls every `pollMs` (and just after an enqueue in this process), claims due
 * deliveries one by one with a conditional update (so of several hub processes on one database exactly one wins
 * each attempt; a claim not finished by its expiry, as after a crash, is taken over), POSTs each signed, and
 * records the attempt: 2xx delivered, anything else retried after the backoff with jitter, `failed` after the
 * last. At most `concurrency` attempts in flight, PER_WEBHOOK_CONCURRENCY per webhook, none awaited by a request.
 * `stop` stops polling and waits for the attempts in flight.
 */
export function startWebhookDelivery(
  deps: HubDeps,
  settings: WebhookSettings,
  log: HubLog = jsonLineLog(process.stderr),
): { stop(): Promise<void> } {
  const worker = randomUUID();
  const concurrency = settings.concurrency ?? DEFAULT_CONCURRENCY;
  const backoff = settings.backoffMs ?? DEFAULT_BACKOFF_MS;
  const claimMs = (settings.timeoutMs ?? DEFAULT_TIMEOUT_MS) + CLAIM_GRACE_MS;
  const inFlight = new Map<string, Promise<void>>();
  const perWebhook = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let lastPrune = 0;
  const flight = singleFlight(
    () => pollOnce(),
    (error) => log({ level: 'error', msg: 'webhook outbox poll failed', error: error.message }),
  );
  const poll = flight.poll;

  const pollOnce = async (): Promise<void> => {
    const now = deps.now();
    if (now.getTime() - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = now.getTime();
      await pruneDeliveryLog(deps.db, new Date(now.getTime() - DELIVERY_LOG_DAYS * 86_400_000));
    }
    let free = concurrency - inFlight.size;
    if (free <= 0) return;
    const busy = [...perWebhook].filter(([, n]) => n >= PER_WEBHOOK_CONCURRENCY).map(([id]) => id);
    const at = now.toISOString();
    const due = await deps.db.all<{ id: string; webhook_id: string }>(
      `SELECT id, webhook_id FROM webhook_deliveries
       WHERE status = 'pending' AND next_attempt_at <= ? AND (claim_expires_at IS NULL OR claim_expires_at < ?)
       ${busy.length ? `AND webhook_id NOT IN (${busy.map(() => '?').join(', ')})` : ''}
       ORDER BY next_attempt_at LIMIT ?`,
      [at, at, ...busy, free * 2],
    );
    for (const candidate of due) {
      if (flight.stopped() || free <= 0) break;
      if ((perWebhook.get(candidate.webhook_id) ?? 0) >= PER_WEBHOOK_CONCURRENCY) continue;
      const claimed = await claim(deps.db, candidate.id, worker, deps.now(), claimMs);
      if (!claimed) continue;
      free -= 1;
      perWebhook.set(claimed.webhook_id, (perWebhook.get(claimed.webhook_id) ?? 0) + 1);
      const attempt = attemptOnce(claimed)
        .catch((error: unknown) =>
          log({
            level: 'error',
            msg: 'webhook attempt not recorded',
            delivery: claimed.id,
            error: (error as Error).message,
          }),
        )
        .finally(() => {
          inFlight.delete(claimed.id);
          const left = (perWebhook.get(claimed.webhook_id) ?? 1) - 1;
          if (left > 0) perWebhook.set(claimed.webhook_id, left);
          else perWebhook.delete(claimed.webhook_id);
          poll();
        });
      inFlight.set(claimed.id, attempt);
    }
  };

  const attemptOnce = async (claimed: Claimed): Promise<void> => {
    const startedAt = deps.now();
    let secret: string;
    try {
      secret = openSecret(settings.secretKey, claimed.webhook_id, claimed.sealed_secret);
    } catch (error) {
      return record(
        deps.db,
        claimed,
        worker,
        startedAt,
        { statusCode: null, error: (error as Error).message, durationMs: 0 },
        deps.now(),
        backoff,
      );
    }
    const result = await postWebhook(
      {
        url: claimed.url,
        secret,
        deliveryId: claimed.id,
        event: claimed.event,
        body: claimed.body,
        timestamp: Math.floor(startedAt.getTime() / 1000),
      },
      settings,
    );
    await record(deps.db, claimed, worker, startedAt, result, deps.now(), backoff);
    log({
      level:
        result.statusCode !== null && result.statusCode < 300 && result.statusCode >= 200 ? 'info' : 'warn',
      msg: 'webhook attempt',
      delivery: claimed.id,
      webhook: claimed.webhook_id,
      event: claimed.event,
      attempt: claimed.attempts,
      status: result.statusCode,
      error: result.error,
      durationMs: result.durationMs,
    });
  };

  const waker = () => {
    for (const delay of WAKE_DELAYS_MS) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        poll();
      }, delay);
      timers.add(timer);
    }
  };
  localWakers.add(waker);
  const interval = setInterval(poll, settings.pollMs ?? 1000);
  poll();

  return {
    stop: async () => {
      localWakers.delete(waker);
      clearInterval(interval);
      for (const timer of timers) clearTimeout(timer);
      await flight.stop();
      await Promise.all(inFlight.values());
    },
  };
}

/** Claims a due delivery for `worker` (its attempt counted now), or undefined when another process has it. */
async function claim(
  db: Db,
  id: string,
  worker: string,
  now: Date,
  claimMs: number,
): Promise<Claimed | undefined> {
  const at = now.toISOString();
  const changed = await db.run(
    `UPDATE webhook_deliveries SET claimed_by = ?, claim_expires_at = ?, attempts = attempts + 1, last_attempt_at = ?
     WHERE id = ? AND status = 'pending' AND next_attempt_at <= ? AND (claim_expires_at IS NULL OR claim_expires_at < ?)`,
    [worker, new Date(now.getTime() + claimMs).toISOString(), at, id, at, at],
  );
  if (changed === 0) return undefined;
  const row = await db.get<Claimed>(
    `SELECT d.id, d.webhook_id, d.event, d.attempts, w.url, w.sealed_secret, e.body
     FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id AND w.org_id = d.org_id
     JOIN webhook_events e ON e.id = d.event_id
     WHERE d.id = ? AND d.claimed_by = ?`,
    [id, worker],
  );
  return row && { ...row, attempts: Number(row.attempts) };
}

/**
 * Writes one attempt's outcome, if the claim is still `worker`'s (a delivery deleted or taken over meanwhile is
 * left alone): the log row, then delivered, retried at the next backoff step (with up to 20% jitter), or failed.
 */
async function record(
  db: Db,
  claimed: Claimed,
  worker: string,
  startedAt: Date,
  result: { statusCode: number | null; error: string | null; durationMs: number },
  now: Date,
  backoff: readonly number[],
): Promise<void> {
  const delivered = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
  const error = delivered
    ? null
    : (result.error ?? `the endpoint answered ${result.statusCode ?? 'nothing'}`).slice(0, 300);
  const wait = backoff[claimed.attempts - 1];
  const status = delivered ? 'delivered' : wait === undefined ? 'failed' : 'pending';
  const next =
    status === 'pending'
      ? new Date(now.getTime() + (wait as number) * (1 + Math.random() * 0.2)).toISOString()
      : null;
  await db.transaction(async (tx) => {
    const org = await tx.get<{ org_id: string }>(
      'SELECT org_id FROM webhook_deliveries WHERE id = ? AND claimed_by = ?',
      [claimed.id, worker],
    );
    if (!org) return;
    await tx.run(
      `UPDATE webhook_deliveries SET status = ?, claimed_by = NULL, claim_expires_at = NULL, next_attempt_at = ?,
         last_status_code = ?, last_error = ?, finished_at = ?
       WHERE id = ? AND claimed_by = ?`,
      [
        status,
        next,
        result.statusCode,
        error,
        status === 'pending' ? null : now.toISOString(),
        claimed.id,
        worker,
      ],
    );
    await tx.run(
      `INSERT INTO webhook_attempts (delivery_id, attempt, org_id, started_at, duration_ms, status_code, error)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (delivery_id, attempt) DO NOTHING`,
      [
        claimed.id,
        claimed.attempts,
        org.org_id,
        startedAt.toISOString(),
        result.durationMs,
        result.statusCode,
        error,
      ],
    );
  });
}

/** Deletes deliveries finished before `before`, their attempts, and events older than that with no delivery left. */
async function pruneDeliveryLog(db: Db, before: Date): Promise<void> {
  const at = before.toISOString();
  await db.transaction(async (tx) => {
    await tx.run(
      `DELETE FROM webhook_attempts WHERE delivery_id IN
         (SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND finished_at < ?)`,
      [at],
    );
    await tx.run("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND finished_at < ?", [at]);
    await tx.run(
      'DELETE FROM webhook_events WHERE enqueued_at < ? AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)',
      [at],
    );
  });
}
