import { randomUUID } from 'node:crypto';
import type { Db } from '../store/db.js';

/** One notification to send: a plain-text message to one address. */
export interface OutgoingMail {
  orgId: string;
  ticketId?: string;
  to: string;
  subject: string;
  text: string;
  /** The address a reply goes to (the recipient's own reply address), if replies are read. */
  replyTo?: string;
  /** A stable id of the conversation (a ticket): mail clients thread messages that refer to it. */
  threadId?: string;
}

/** Delivery loops of this process, woken when mail is enqueued (`startMailDelivery` registers). */
export const mailWakers = new Set<() => void>();

/** Queues one message in the caller's transaction: it is sent if and only if the caller's change commits. */
export async function enqueueMail(tx: Db, mail: OutgoingMail, now: Date): Promise<void> {
  const at = now.toISOString();
  await tx.run(
    `INSERT INTO mail_outbox (id, org_id, ticket_id, to_addr, subject, text_body, reply_to, thread_id, status,
       created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
    [
      randomUUID(),
      mail.orgId,
      mail.ticketId ?? null,
      mail.to,
      mail.subject,
      mail.text,
      mail.replyTo ?? null,
      mail.threadId ?? null,
      at,
      at,
    ],
  );
  for (const wake of mailWakers) wake();
}
