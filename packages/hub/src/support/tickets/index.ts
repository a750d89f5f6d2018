/** @module Support tickets: routes, the notification event, and the inbound email entry point. */
export { ticketRoutes } from './ticket-routes.js';
export { addEmailReply, type OnTicketEvent, type TicketEvent } from './tickets.js';
