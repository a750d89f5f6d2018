import { absoluteUrl } from '../advisories/urls.js';
import type { HubDeps } from '../http/hub-env.js';
import type { Db } from '../store/db.js';
import type { OnTicketEvent, TicketEvent } from '../support/tickets/index.js';
import { enqueueMail } from './mail-outbox.js';
import type { MailSettings } from './mail-settings.js';
import { replyAddressFor } from './reply-address.js';

/** The line a reply is written above; the inbound reader keeps only what is above it. */
export const REPLY_ABOVE = '##- Write your reply above this line -##';

type Recipient = { address: string; userId?: string };

/**
 * The email notifications of public ticket changes (internal notes never raise an event), queued in the change's
 * transaction. A change by staff goes to the customers on the ticket (its opener and everyone who wrote on it;
 * the organisation's admins when no user has); a change by the customer goes to the assigned staff member, or
 * to the staff queue address while nobody is assigned. Nobody is told of their own change. Customers get their
 * own reply address (when replies are read), so an emailed reply lands on the ticket as them.
 */
export function ticketMailEvents(deps: HubDeps, mail: MailSettings): OnTicketEvent {
  return async (tx, event) => {
    const recipients = event.byStaff ? await customersOf(tx, event) : await staffOf(tx, event, mail);
    if (recipients.length === 0) return;
    const now = deps.now();
    const subject = subjectOf(deps, event);
    const author = await authorName(tx, deps, event);
    const url = absoluteUrl(deps.config.publicUrl, `/api/v1/tickets/${event.ticketId}`);
    const threadId = `<ticket-${event.ticketId}@${mail.from.slice(mail.from.lastIndexOf('@') + 1)}>`;
    for (const recipient of recipients) {
      const replyTo =
        mail.replyAddress && recipient.userId
          ? await replyAddressFor(
              tx,
              mail.replyAddress,
              { ticketId: event.ticketId, userId: recipient.userId },
              now,
            )
          : undefined;
      await enqueueMail(
        tx,
        {
          orgId: event.orgId,
          ticketId: event.ticketId,
          to: recipient.address,
          subject,
          text: textOf(event, author, url, replyTo !== undefined),
          ...(replyTo ? { replyTo } : {}),
          threadId,
        },
        now,
      );
    }
  };
}

async function customersOf(tx: Db, event: TicketEvent): Promise<Recipient[]> {
  const rows = await tx.all<{ id: string; email: string }>(
    `SELECT u.id, u.email FROM users u WHERE u.org_id = ? AND u.role <> 'vendor-staff' AND (
       'user:' || u.id = (SELECT created_by FROM tickets WHERE id = ?)
       OR 'user:' || u.id IN (SELECT author FROM ticket_messages WHERE ticket_id = ? AND internal = 0))
     ORDER BY u.email`,
    [event.orgId, event.ticketId, event.ticketId],
  );
  const people = rows.length
    ? rows
    : await tx.all<{ id: string; email: string }>(
        "SELECT id, email FROM users WHERE org_id = ? AND role = 'org-admin' ORDER BY email",
        [event.orgId],
      );
  return people.filter((u) => `user:${u.id}` !== event.by).map((u) => ({ address: u.email, userId: u.id }));
}

async function staffOf(tx: Db, event: TicketEvent, mail: MailSettings): Promise<Recipient[]> {
  const assignee = await tx.get<{ id: string; email: string }>(
    `SELECT u.id, u.email FROM tickets t JOIN users u ON u.id = t.assignee_id
     WHERE t.id = ? AND u.role = 'vendor-staff'`,
    [event.ticketId],
  );
  if (assignee) return [{ address: assignee.email }];
  return mail.staffAddress ? [{ address: mail.staffAddress }] : [];
}

async function authorName(tx: Db, deps: HubDeps, event: TicketEvent): Promise<string> {
  if (event.byStaff) return `${deps.config.publisher.name} support`;
  const [kind, id] = [event.by.slice(0, event.by.indexOf(':')), event.by.slice(event.by.indexOf(':') + 1)];
  const row =
    kind === 'user'
      ? await tx.get<{ name: string }>('SELECT email AS name FROM users WHERE id = ?', [id])
      : await tx.get<{ name: string }>('SELECT name FROM api_tokens WHERE id = ?', [id]);
  return row?.name ?? 'the customer';
}

function subjectOf(deps: HubDeps, event: TicketEvent): string {
  const tag = `[${deps.config.publisher.name} ticket ${event.ticketId.slice(0, 8)}]`;
  // No control characters, and no `=?` that a mail client would decode as an RFC 2047 encoded word.
  const subject = event.subject.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').replaceAll('=?', '= ?');
  return event.kind === 'state' ? `${tag} ${subject}: now ${event.state}` : `${tag} ${subject}`;
}

function textOf(event: TicketEvent, author: string, url: string, replyable: boolean): string {
  const what =
    event.kind === 'created'
      ? `${author} opened a ticket about ${event.incident.slug}: "${event.subject}".`
      : event.kind === 'message'
        ? `${author} wrote on the ticket "${event.subject}":`
        : `${author} moved the ticket "${event.subject}" to ${event.state}.`;
  const lines = replyable ? [REPLY_ABOVE, ''] : [];
  lines.push(what);
  if (event.body) lines.push('', event.body);
  lines.push('', '-- ', `Ticket: ${url}`);
  if (replyable) lines.push('Reply to this email to answer on the ticket: write above the first line.');
  return `${lines.join('\n')}\n`;
}
