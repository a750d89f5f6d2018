import type { HubDeps } from '../http/hub-env.js';
import { ticketMailEvents } from '../mail/ticket-mail.js';
import { ticketWebhookEvents } from '../webhooks/hub-events.js';
import type { OnTicketEvent } from './tickets/index.js';

/** Everything a public ticket change notifies, in its transaction: the organisation's webhooks, and email when set up. */
export function ticketNotifications(deps: HubDeps): OnTicketEvent {
  const hooks = [
    ticketWebhookEvents(deps),
    ...(deps.config.mail ? [ticketMailEvents(deps, deps.config.mail)] : []),
  ];
  return async (tx, event) => {
    for (const hook of hooks) await hook(tx, event);
  };
}
