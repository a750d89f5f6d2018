import { randomUUID } from 'node:crypto';
import type { OnPublished } from '../advisories/advisory-store.js';
import { absoluteUrl, advisoryPaths } from '../advisories/urls.js';
import type { HubDeps } from '../http/hub-env.js';
import type { HubPack } from '../packs/hub-pack-store.js';
import type { Db } from '../store/db.js';
import type { OnTicketEvent, TicketEvent } from '../support/tickets/index.js';
import { enqueueWebhookEvent, type WebhookEventKind } from './outbox.js';

/**
 * The webhook event of every published advisory revision, enqueued in the transaction that publishes it. Webhook
 * endpoints are outside services (chat, ticketing), so only a TLP:WHITE advisory's words go in the event; for any
 * other label the event says which advisory changed and where to read it, signed in.
 */
export function advisoryWebhookEvents(deps: HubDeps): OnPublished {
  return async (tx, { kind, trackingId, slug, revision }) => {
    const { content } = revision;
    const words =
      content.tlp === 'WHITE'
        ? {
            summary: revision.summary,
            title: content.title,
            severity: content.severity,
            status: content.status,
          }
        : {};
    await enqueueWebhookEvent(tx, {
      kind,
      id: `advisory:${trackingId}#${revision.number}`,
      at: revision.at,
      data: {
        trackingId,
        revision: revision.number,
        tlp: content.tlp,
        ...words,
        url: absoluteUrl(deps.config.publicUrl, advisoryPaths.page(slug)),
      },
    });
  };
}

/** The webhook event of a pack version stored at the hub, enqueued in the transaction that stores it. */
export async function packWebhookEvent(tx: Db, deps: HubDeps, pack: HubPack): Promise<void> {
  await enqueueWebhookEvent(tx, {
    kind: 'pack.published',
    id: `pack:${pack.id}#${pack.sequence}`,
    at: pack.uploadedAt,
    data: {
      packId: pack.id,
      sequence: pack.sequence,
      title: pack.title,
      archiveSha256: pack.archiveSha256,
      archiveSize: pack.archiveSize,
      feed: deps.config.packs?.feedKey
        ? absoluteUrl(deps.config.publicUrl, `/feed/packs/${pack.id}-${pack.sequence}.tar.gz`)
        : null,
    },
  });
}

const TICKET_EVENT_KINDS: Record<TicketEvent['kind'], WebhookEventKind> = {
  created: 'ticket.created',
  message: 'ticket.replied',
  state: 'ticket.state_changed',
};

/**
 * The webhook events of public ticket changes, heard only by the ticket's own organisation's webhooks: which
 * ticket, which side acted, the new state, and where to read it; never a message's text.
 */
export function ticketWebhookEvents(deps: HubDeps): OnTicketEvent {
  return async (tx, event) => {
    await enqueueWebhookEvent(tx, {
      kind: TICKET_EVENT_KINDS[event.kind],
      id: `ticket:${event.ticketId}:${randomUUID()}`,
      at: event.at,
      orgId: event.orgId,
      data: {
        ticketId: event.ticketId,
        incident: event.incident.slug,
        subject: event.subject,
        by: event.byStaff ? 'staff' : 'customer',
        ...(event.state ? { state: event.state } : {}),
        url: absoluteUrl(deps.config.publicUrl, `/api/v1/tickets/${event.ticketId}`),
      },
    });
  };
}
