/** Ticket priorities, lowest first. */
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Ticket states: `pending` waits on the customer. */
export const STATES = ['new', 'open', 'pending', 'resolved', 'closed'] as const;
export type TicketState = (typeof STATES)[number];

/** The states each state may move to; `closed` is final (a new question is a new ticket). */
export const TRANSITIONS: Record<TicketState, readonly TicketState[]> = {
  new: ['open', 'pending', 'resolved', 'closed'],
  open: ['pending', 'resolved', 'closed'],
  pending: ['open', 'resolved', 'closed'],
  resolved: ['open', 'closed'],
  closed: [],
};

/** States a customer may move a ticket to: only staff put it on hold (`pending`, waiting on the customer). */
export const CUSTOMER_TARGETS: readonly TicketState[] = ['open', 'resolved', 'closed'];

/** A customer's public reply on these states reopens the ticket (to `open`). */
export const REOPENED_BY_REPLY: readonly TicketState[] = ['pending', 'resolved'];

const HOUR = 3_600_000;
/** SLA targets per priority in wall-clock milliseconds from creation: first staff public reply, resolution. */
export const SLA_TARGETS: Record<Priority, { firstResponse: number; resolution: number }> = {
  urgent: { firstResponse: 1 * HOUR, resolution: 8 * HOUR },
  high: { firstResponse: 4 * HOUR, resolution: 24 * HOUR },
  normal: { firstResponse: 8 * HOUR, resolution: 72 * HOUR },
  low: { firstResponse: 24 * HOUR, resolution: 168 * HOUR },
};

/** The longest message body, in characters (Markdown). */
export const MESSAGE_MAX_CHARS = 100_000;

/** Attachment limits: bytes per file, bytes per message, files per message (the body is base64 JSON). */
export const ATTACHMENT_LIMITS = { fileBytes: 10 * 1024 * 1024, messageBytes: 11 * 1024 * 1024, files: 10 };
