import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { singleFlight } from '../background/single-flight.js';
import type { HubLog } from '../http/request-log.js';
import type { Db } from '../store/db.js';
import { mailWakers } from './mail-outbox.js';
import { DEFAULT_MAIL_BACKOFF_MS, type MailSettings } from './mail-settings.js';

/** Messages claimed per poll. */
const BATCH = 20;
/** How long a claim lasts before another process may take the message over (after a crash). */
const CLAIM_MS = 120_000;
/** Sent and failed messages are deleted after this long. */
const KEEP_DAYS = 30;
/** How long one SMTP step may take. */
const SMTP_TIMEOUT_MS = 30_000;

type Claimed = {
  id: string;
  to_addr: string;
  subject: string;
  text_body: string;
  reply_to: string | null;
  thread_id: string | null;
  attempts: number;
};

/** The display name and address of the sender, for the `From` header. */
export interface Sender {
  name: string;
  address: string;
}

/**
 * Sends the mail outbox over SMTP: polls every `pollMs` (and just after an enqueue in this process), claims due
 * messages with a conditional update (of several hub processes on one database exactly one sends each), sends
 * them one at a time and records the outcome: sent, retried after the backoff (a 4xx or a connection failure),
 * or failed (a 5xx answer, or the last attempt). `stop` waits for the message being sent.
 */
export function startMailDelivery(
  db: Db,
  settings: MailSettings,
  sender: () => Sender,
  log: HubLog,
  now: () => Date = () => new Date(),
): { stop(): Promise<void> } {
  const worker = randomUUID();
  const transport = smtpTransport(settings);
  const backoff = settings.backoffMs ?? DEFAULT_MAIL_BACKOFF_MS;
  let lastPrune = 0;
  const flight = singleFlight(
    () => sendDue(),
    (error) => log({ level: 'error', msg: 'mail outbox poll failed', error: error.message }),
  );

  const sendDue = async (): Promise<void> => {
    const at = now();
    if (at.getTime() - lastPrune > 3_600_000) {
      lastPrune = at.getTime();
      await db.run("DELETE FROM mail_outbox WHERE status <> 'pending' AND finished_at < ?", [
        new Date(at.getTime() - KEEP_DAYS * 86_400_000).toISOString(),
      ]);
    }
    const due = await db.all<{ id: string }>(
      `SELECT id FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= ?
         AND (claim_expires_at IS NULL OR claim_expires_at < ?) ORDER BY next_attempt_at LIMIT ?`,
      [at.toISOString(), at.toISOString(), BATCH],
    );
    for (const { id } of due) {
      if (flight.stopped()) return;
      const claimed = await claim(db, id, worker, now());
      if (!claimed) continue;
      const from = sender();
      let outcome: { error: string | null; permanent: boolean };
      try {
        await transport.sendMail({
          from: { name: from.name, address: from.address },
          to: claimed.to_addr,
          subject: claimed.subject,
          text: claimed.text_body,
          ...(claimed.reply_to ? { replyTo: claimed.reply_to } : {}),
          ...(claimed.thread_id ? { references: claimed.thread_id } : {}),
          headers: { 'Auto-Submitted': 'auto-generated' },
        });
        outcome = { error: null, permanent: false };
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode;
        outcome = {
          error: (error as Error).message.slice(0, 300),
          permanent: code !== undefined && code >= 500,
        };
      }
      await record(db, claimed, worker, outcome, now(), backoff);
      log({
        level: outcome.error ? 'warn' : 'info',
        msg: 'mail attempt',
        mail: claimed.id,
        attempt: claimed.attempts,
        error: outcome.error,
      });
    }
  };

  const wake = () => setTimeout(flight.poll, 20);
  mailWakers.add(wake);
  const interval = setInterval(flight.poll, settings.pollMs ?? 2000);
  flight.poll();
  return {
    stop: async () => {
      mailWakers.delete(wake);
      clearInterval(interval);
      await flight.stop();
      transport.close();
    },
  };
}

function smtpTransport(settings: MailSettings) {
  const url = new URL(settings.smtpUrl);
  const secure = url.protocol === 'smtps:';
  return nodemailer.createTransport({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 465 : 25,
    secure,
    ...(url.username
      ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
      : {}),
    tls: { rejectUnauthorized: settings.verifyTls ?? true },
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
}

async function claim(db: Db, id: string, worker: string, now: Date): Promise<Claimed | undefined> {
  const at = now.toISOString();
  const changed = await db.run(
    `UPDATE mail_outbox SET claimed_by = ?, claim_expires_at = ?, attempts = attempts + 1
     WHERE id = ? AND status = 'pending' AND next_attempt_at <= ? AND (claim_expires_at IS NULL OR claim_expires_at < ?)`,
    [worker, new Date(now.getTime() + CLAIM_MS).toISOString(), id, at, at],
  );
  if (changed === 0) return undefined;
  const row = await db.get<Claimed>(
    `SELECT id, to_addr, subject, text_body, reply_to, thread_id, attempts FROM mail_outbox
     WHERE id = ? AND claimed_by = ?`,
    [id, worker],
  );
  return row && { ...row, attempts: Number(row.attempts) };
}

async function record(
  db: Db,
  claimed: Claimed,
  worker: string,
  outcome: { error: string | null; permanent: boolean },
  now: Date,
  backoff: readonly number[],
): Promise<void> {
  const wait = backoff[claimed.attempts - 1];
  const status =
    outcome.error === null ? 'sent' : outcome.permanent || wait === undefined ? 'failed' : 'pending';
  await db.run(
    `UPDATE mail_outbox SET status = ?, claimed_by = NULL, claim_expires_at = NULL, next_attempt_at = ?,
       last_error = ?, finished_at = ? WHERE id = ? AND claimed_by = ?`,
    [
      status,
      status === 'pending' ? new Date(now.getTime() + (wait as number)).toISOString() : null,
      outcome.error,
      status === 'pending' ? null : now.toISOString(),
      claimed.id,
      worker,
    ],
  );
}
