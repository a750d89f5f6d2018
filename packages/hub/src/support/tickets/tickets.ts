import { createHash, randomUUID } from 'node:crypto';
import { renderMarkdown, renderMarkdownInline } from '../../advisories/markdown.js';
import { decodeCursor, encodeCursor } from '../../fleet/cursor.js';
import { HttpError } from '../../http/http-error.js';
import type { Db, Row } from '../../store/db.js';
import { scopeFilter } from '../../store/scope-sql.js';
import type { Principal, Scope } from '../../tenancy.js';
import { scopeOf } from '../../tenancy.js';
import { getIncident, type Incident, type WhenUsedUp } from '../incidents.js';
import {
  CUSTOMER_TARGETS,
  MESSAGE_MAX_CHARS,
  type Priority,
  REOPENED_BY_REPLY,
  SLA_TARGETS,
  type TicketState,
  TRANSITIONS,
} from './rules.js';

/** A caller of the ticket store: a user or API token (agents have no tickets). */
export type TicketCaller = Exclude<Principal, { kind: 'agent' }>;

/** A public change, given to the notification hook inside its transaction (never for internal notes). */
export interface TicketEvent {
  kind: 'created' | 'message' | 'state';
  ticketId: string;
  orgId: string;
  incident: { id: string; slug: string };
  subject: string;
  /** `user:<id>` or `token:<id>`. */
  by: string;
  /** Whether vendor staff made the change (else the customer did). */
  byStaff: boolean;
  at: string;
  /** The message's Markdown (kind `message`, and `created` when it came with one). */
  body?: string;
  /** The new state (kind `state`). */
  state?: TicketState;
}

/** The notification hook: runs inside the change's transaction, so a failure undoes the change. */
export type OnTicketEvent = (tx: Db, event: TicketEvent) => Promise<void>;

/** An attachment as uploaded: a name and its bytes. */
export interface Upload {
  name: string;
  bytes: Buffer;
}

type TicketRow = Row & {
  id: string;
  org_id: string;
  incident_id: string;
  subject: string;
  priority: Priority;
  state: TicketState;
  assignee_id: string | null;
  paid: number;
  counts: number;
  created_at: string;
  created_by: string;
  updated_at: string;
  first_response_at: string | null;
  resolved_at: string | null;
};

/** Who did something, as the audit log and ledger record it. */
export function actorOf(principal: TicketCaller): string {
  return principal.kind === 'user' ? `user:${principal.userId}` : `token:${principal.tokenId}`;
}

const isStaff = (principal: TicketCaller) => principal.role === 'vendor-staff';

/** The advisory-lock number of one organisation's free tickets for one incident. */
export function quotaLock(orgId: string, incidentId: string): number {
  return Number.parseInt(
    createHash('sha256').update(`tickets-quota\0${orgId}\0${incidentId}`).digest('hex').slice(0, 12),
    16,
  );
}

const ticketLock = (ticketId: string) =>
  Number.parseInt(createHash('sha256').update(`ticket\0${ticketId}`).digest('hex').slice(0, 12), 16);

/** The quota of one organisation for one incident: what it is, what the ledger counts, what is left. */
export async function quotaOf(db: Db, orgId: string, incident: Incident) {
  const row = await db.get<{ used: number | null }>(
    'SELECT -SUM(delta) AS used FROM ticket_ledger WHERE org_id = ? AND incident_id = ?',
    [orgId, incident.id],
  );
  const used = Number(row?.used ?? 0);
  const ledger = await db.all<Row>(
    `SELECT ticket_id, delta, by_who, reason, at FROM ticket_ledger WHERE org_id = ? AND incident_id = ?
     ORDER BY seq`,
    [orgId, incident.id],
  );
  return {
    incident: { id: incident.id, slug: incident.slug },
    freeTickets: incident.freeTickets,
    used,
    remaining: Math.max(0, incident.freeTickets - used),
    whenUsedUp: incident.whenUsedUp as WhenUsedUp,
    ledger: ledger.map((l) => ({
      ticketId: l.ticket_id,
      delta: Number(l.delta),
      by: l.by_who,
      reason: l.reason,
      at: l.at,
    })),
  };
}

async function nextSeq(tx: Db, table: 'ticket_audit' | 'ticket_messages', column: string, value: string) {
  const row = await tx.get<{ n: number | null }>(`SELECT MAX(seq) AS n FROM ${table} WHERE ${column} = ?`, [
    value,
  ]);
  return Number(row?.n ?? 0) + 1;
}

async function audit(
  tx: Db,
  ticket: { id: string; org_id: string },
  entry: { by: string; at: string; kind: string; internal?: boolean; before?: unknown; after?: unknown },
) {
  await tx.run(
    `INSERT INTO ticket_audit (id, ticket_id, org_id, seq, at, by_who, kind, internal, before_value, after_value)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      randomUUID(),
      ticket.id,
      ticket.org_id,
      await nextSeq(tx, 'ticket_audit', 'ticket_id', ticket.id),
      entry.at,
      entry.by,
      entry.kind,
      entry.internal ? 1 : 0,
      entry.before === undefined ? null : JSON.stringify(entry.before),
      entry.after === undefined ? null : JSON.stringify(entry.after),
    ],
  );
}

async function ledger(
  tx: Db,
  ticket: TicketRow,
  entry: { delta: -1 | 1; by: string; reason: string | null; at: string },
) {
  const seq = await tx.get<{ n: number | null }>(
    'SELECT MAX(seq) AS n FROM ticket_ledger WHERE org_id = ? AND incident_id = ?',
    [ticket.org_id, ticket.incident_id],
  );
  await tx.run(
    `INSERT INTO ticket_ledger (id, org_id, incident_id, ticket_id, delta, by_who, reason, at, seq)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      randomUUID(),
      ticket.org_id,
      ticket.incident_id,
      ticket.id,
      entry.delta,
      entry.by,
      entry.reason,
      entry.at,
      Number(seq?.n ?? 0) + 1,
    ],
  );
}

async function loadTicket(db: Db, scope: Scope, id: string): Promise<TicketRow> {
  const filter = scopeFilter(scope);
  const row = await db.get<TicketRow>(`SELECT * FROM tickets WHERE id = ? AND ${filter.sql}`, [
    id,
    ...filter.params,
  ]);
  if (!row) throw new HttpError(404, 'NOT_FOUND', 'no such ticket');
  return row;
}

async function incidentRef(db: Db, incidentId: string) {
  const row = await db.get<{ id: string; slug: string }>('SELECT id, slug FROM incidents WHERE id = ?', [
    incidentId,
  ]);
  return { id: incidentId, slug: row?.slug ?? '' };
}

function clock(startedAt: string, target: number, at: string | null, now: Date) {
  const dueAt = new Date(Date.parse(startedAt) + target).toISOString();
  return { dueAt, at, breached: (at ?? now.toISOString()) > dueAt };
}

async function ticketView(db: Db, row: TicketRow, now: Date) {
  const targets = SLA_TARGETS[row.priority];
  return {
    id: row.id,
    orgId: row.org_id,
    incident: await incidentRef(db, row.incident_id),
    subject: row.subject,
    subjectHtml: renderMarkdownInline(row.subject),
    priority: row.priority,
    state: row.state,
    assigneeId: row.assignee_id,
    paid: row.paid === 1 || Number(row.paid) === 1,
    counts: Number(row.counts) === 1,
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    sla: {
      firstResponse: clock(row.created_at, targets.firstResponse, row.first_response_at, now),
      resolution: clock(row.created_at, targets.resolution, row.resolved_at, now),
    },
  };
}

/** A ticket as callers see it (no internal notes in it, for anyone). */
export type TicketView = Awaited<ReturnType<typeof ticketView>>;

async function storeAttachments(tx: Db, ticket: TicketRow, messageId: string, uploads: readonly Upload[]) {
  const stored: { sha256: string; name: string; size: number }[] = [];
  for (const upload of uploads) {
    const sha256 = createHash('sha256').update(upload.bytes).digest('hex');
    if (stored.some((s) => s.sha256 === sha256)) continue;
    const blob = await tx.get('SELECT size FROM ticket_blobs WHERE org_id = ? AND sha256 = ?', [
      ticket.org_id,
      sha256,
    ]);
    if (!blob)
      await tx.run('INSERT INTO ticket_blobs (org_id, sha256, size, content) VALUES (?, ?, ?, ?)', [
        ticket.org_id,
        sha256,
        upload.bytes.length,
        upload.bytes.toString('base64'),
      ]);
    await tx.run(
      `INSERT INTO ticket_attachments (message_id, ticket_id, org_id, sha256, position, name, size)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [messageId, ticket.id, ticket.org_id, sha256, stored.length, upload.name, upload.bytes.length],
    );
    stored.push({ sha256, name: upload.name, size: upload.bytes.length });
  }
  return stored;
}

async function insertMessage(
  tx: Db,
  ticket: TicketRow,
  message: { body: string; internal: boolean; by: string; via: 'api' | 'email'; at: string },
  uploads: readonly Upload[],
) {
  const id = randomUUID();
  await tx.run(
    `INSERT INTO ticket_messages (id, ticket_id, org_id, seq, internal, body, author, via, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      id,
      ticket.id,
      ticket.org_id,
      await nextSeq(tx, 'ticket_messages', 'ticket_id', ticket.id),
      message.internal ? 1 : 0,
      message.body,
      message.by,
      message.via,
      message.at,
    ],
  );
  await audit(tx, ticket, {
    by: message.by,
    at: message.at,
    kind: message.internal ? 'note' : 'message',
    internal: message.internal,
    after: { messageId: id },
  });
  const stored = await storeAttachments(tx, ticket, id, uploads);
  for (const each of stored)
    await audit(tx, ticket, {
      by: message.by,
      at: message.at,
      kind: 'attachment',
      internal: message.internal,
      after: { messageId: id, sha256: each.sha256, name: each.name, size: each.size },
    });
  return { id, attachments: stored };
}

/** What a caller sends to open a ticket, already validated. */
export interface OpenTicketInput {
  orgId: string;
  incident: string;
  subject: string;
  priority: Priority;
  body?: string;
  attachments: readonly Upload[];
}

/**
 * Opens a ticket for an organisation about an incident. In one transaction holding the (organisation,
 * incident) lock: counts the ledger, takes a free ticket (-1) if one is left, else refuses (409
 * QUOTA_USED_UP with the forum link) or opens it as paid, as the incident says.
 */
export async function openTicket(
  db: Db,
  principal: TicketCaller,
  input: OpenTicketInput,
  now: Date,
  onEvent?: OnTicketEvent,
): Promise<TicketView> {
  const scope = scopeOf(principal);
  if (scope.kind === 'org' && scope.orgId !== input.orgId)
    throw new HttpError(404, 'NOT_FOUND', 'no such organisation');
  const incident = await getIncident(db, input.incident);
  if (!incident) throw new HttpError(400, 'INVALID', `no incident ${input.incident}`, { field: 'incident' });
  const org = await db.get('SELECT id FROM orgs WHERE id = ?', [input.orgId]);
  if (!org) throw new HttpError(400, 'INVALID', `no organisation ${input.orgId}`, { field: 'org' });
  const by = actorOf(principal);
  return db.transaction(
    async (tx) => {
      const current = await getIncident(tx, incident.id);
      if (!current)
        throw new HttpError(400, 'INVALID', `no incident ${input.incident}`, { field: 'incident' });
      const quota = await quotaOf(tx, input.orgId, current);
      const free = quota.remaining > 0;
      if (!free && current.whenUsedUp === 'refuse') throw new QuotaUsedUp(current, quota.freeTickets);
      const at = now.toISOString();
      const row: TicketRow = {
        id: randomUUID(),
        org_id: input.orgId,
        incident_id: current.id,
        subject: input.subject,
        priority: input.priority,
        state: 'new',
        assignee_id: null,
        paid: free ? 0 : 1,
        counts: free ? 1 : 0,
        created_at: at,
        created_by: by,
        updated_at: at,
        first_response_at: null,
        resolved_at: null,
      };
      await tx.run(
        `INSERT INTO tickets (id, org_id, incident_id, subject, priority, state, assignee_id, paid, counts,
           created_at, created_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)`,
        [
          row.id,
          row.org_id,
          row.incident_id,
          row.subject,
          row.priority,
          row.state,
          row.paid,
          row.counts,
          at,
          by,
          at,
        ],
      );
      await audit(tx, row, {
        by,
        at,
        kind: 'created',
        after: { subject: row.subject, priority: row.priority, state: row.state, paid: row.paid === 1 },
      });
      if (free) await ledger(tx, row, { delta: -1, by, reason: 'ticket opened', at });
      if (input.body !== undefined || input.attachments.length > 0)
        await insertMessage(
          tx,
          row,
          { body: input.body ?? '', internal: false, by, via: 'api', at },
          input.attachments,
        );
      await onEvent?.(tx, {
        kind: 'created',
        ticketId: row.id,
        orgId: row.org_id,
        incident: { id: current.id, slug: current.slug },
        subject: row.subject,
        by,
        byStaff: isStaff(principal),
        at,
        ...(input.body !== undefined ? { body: input.body } : {}),
      });
      return ticketView(tx, row, now);
    },
    { lock: quotaLock(input.orgId, incident.id) },
  );
}

/** The refusal of a ticket beyond the free ones, with where to ask instead. */
export class QuotaUsedUp extends HttpError {
  readonly forum: string;
  constructor(incident: Incident, freeTickets: number) {
    super(
      409,
      'QUOTA_USED_UP',
      `the ${freeTickets} free tickets of your organisation for ${incident.slug} are used up; ask in the forum`,
    );
    this.forum = `/forum/${incident.slug}`;
  }
  override toJSON() {
    const body = super.toJSON();
    return { error: { ...body.error, forum: this.forum } };
  }
}

/** Filters of the ticket list. */
export interface TicketFilters {
  state?: TicketState;
  incident?: string;
  assignee?: string;
  priority?: Priority;
  org?: string;
}

/** The tickets in a scope, newest first (at most 200), filtered. */
export async function listTickets(
  db: Db,
  scope: Scope,
  filters: TicketFilters,
  page: { limit: number; cursor?: string },
  now: Date,
) {
  const filter = scopeFilter(scope);
  const where = [filter.sql];
  const params = [...filter.params];
  if (filters.state) where.push('state = ?') && params.push(filters.state);
  if (filters.priority) where.push('priority = ?') && params.push(filters.priority);
  if (filters.assignee) where.push('assignee_id = ?') && params.push(filters.assignee);
  if (filters.org) where.push('org_id = ?') && params.push(filters.org);
  if (filters.incident) {
    const incident = await getIncident(db, filters.incident);
    where.push('incident_id = ?');
    params.push(incident?.id ?? '');
  }
  const binding = JSON.stringify(['tickets', scope, filters]);
  if (page.cursor) {
    const [at, id] = await decodeCursor(db, page.cursor, binding);
    if (typeof at !== 'string' || typeof id !== 'string')
      throw new HttpError(400, 'INVALID_CURSOR', 'the cursor is not one this query gave', {
        field: 'cursor',
      });
    where.push('(created_at < ? OR (created_at = ? AND id > ?))');
    params.push(at, at, id);
  }
  const rows = await db.all<TicketRow>(
    `SELECT * FROM tickets WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id LIMIT ${page.limit + 1}`,
    params,
  );
  const shown = rows.slice(0, page.limit);
  const last = shown.at(-1);
  return {
    tickets: await Promise.all(shown.map((row) => ticketView(db, row, now))),
    nextCursor:
      rows.length > page.limit && last ? await encodeCursor(db, [last.created_at, last.id], binding) : null,
  };
}

/** One ticket with its messages and their attachments: internal notes only for vendor staff. */
export async function getTicket(db: Db, principal: TicketCaller, id: string, now: Date) {
  const row = await loadTicket(db, scopeOf(principal), id);
  const messages = await db.all<Row>(
    `SELECT * FROM ticket_messages WHERE ticket_id = ? AND org_id = ? ${isStaff(principal) ? '' : 'AND internal = 0'}
     ORDER BY seq`,
    [row.id, row.org_id],
  );
  const attachments = await db.all<Row>(
    `SELECT message_id, sha256, name, size FROM ticket_attachments WHERE ticket_id = ? AND org_id = ?
     ORDER BY position`,
    [row.id, row.org_id],
  );
  return {
    ...(await ticketView(db, row, now)),
    messages: messages.map((m) => ({
      id: m.id,
      internal: Number(m.internal) === 1,
      body: m.body,
      html: renderMarkdown(String(m.body)),
      author: m.author,
      via: m.via,
      createdAt: m.created_at,
      attachments: attachments
        .filter((a) => a.message_id === m.id)
        .map((a) => ({
          sha256: a.sha256,
          name: a.name,
          size: Number(a.size),
          url: `/api/v1/tickets/${row.id}/attachments/${a.sha256}`,
        })),
    })),
  };
}

async function addMessageTo(
  tx: Db,
  row: TicketRow,
  message: { body: string; internal: boolean; staff: boolean; by: string; via: 'api' | 'email'; at: string },
  uploads: readonly Upload[],
  onEvent?: OnTicketEvent,
) {
  if (row.state === 'closed')
    throw new HttpError(409, 'TICKET_CLOSED', 'the ticket is closed; open a new one', { field: 'ticketId' });
  const stored = await insertMessage(tx, row, message, uploads);
  if (message.internal) return stored;
  const incident = await incidentRef(tx, row.incident_id);
  const firstResponse = message.staff && !row.first_response_at ? message.at : row.first_response_at;
  const reopen = !message.staff && REOPENED_BY_REPLY.includes(row.state);
  await tx.run(
    'UPDATE tickets SET updated_at = ?, first_response_at = ?, state = ?, resolved_at = ? WHERE id = ?',
    [message.at, firstResponse, reopen ? 'open' : row.state, reopen ? null : row.resolved_at, row.id],
  );
  const base = {
    ticketId: row.id,
    orgId: row.org_id,
    incident,
    subject: row.subject,
    by: message.by,
    byStaff: message.staff,
    at: message.at,
  };
  await onEvent?.(tx, { ...base, kind: 'message', body: message.body });
  if (reopen) {
    await audit(tx, row, { by: message.by, at: message.at, kind: 'state', before: row.state, after: 'open' });
    await onEvent?.(tx, { ...base, kind: 'state', state: 'open' });
  }
  return stored;
}

/** Adds a public message or (staff only) an internal note; a customer reply reopens a pending or resolved ticket. */
export async function addMessage(
  db: Db,
  principal: TicketCaller,
  id: string,
  input: { body: string; internal: boolean; attachments: readonly Upload[] },
  now: Date,
  onEvent?: OnTicketEvent,
) {
  if (input.internal && !isStaff(principal))
    throw new HttpError(403, 'FORBIDDEN', 'only vendor staff write internal notes', { field: 'internal' });
  const scope = scopeOf(principal);
  const found = await loadTicket(db, scope, id);
  return db.transaction(
    async (tx) => {
      const row = await loadTicket(tx, scope, found.id);
      const at = now.toISOString();
      const by = actorOf(principal);
      return addMessageTo(
        tx,
        row,
        { ...input, staff: isStaff(principal), by, via: 'api', at },
        input.attachments,
        onEvent,
      );
    },
    { lock: ticketLock(found.id) },
  );
}

/** Moves a ticket along the transition table: 409 naming `to` for a move it does not allow. */
export async function changeState(
  db: Db,
  principal: TicketCaller,
  id: string,
  to: TicketState,
  now: Date,
  onEvent?: OnTicketEvent,
) {
  const scope = scopeOf(principal);
  const found = await loadTicket(db, scope, id);
  return db.transaction(
    async (tx) => {
      const row = await loadTicket(tx, scope, found.id);
      if (!TRANSITIONS[row.state].includes(to))
        throw new HttpError(409, 'INVALID_TRANSITION', `a ${row.state} ticket cannot become ${to}`, {
          field: 'to',
        });
      if (!isStaff(principal) && !CUSTOMER_TARGETS.includes(to))
        throw new HttpError(403, 'FORBIDDEN', `only vendor staff set a ticket ${to}`, { field: 'to' });
      const at = now.toISOString();
      const by = actorOf(principal);
      const resolvedAt = to === 'resolved' || to === 'closed' ? (row.resolved_at ?? at) : null;
      await tx.run('UPDATE tickets SET state = ?, resolved_at = ?, updated_at = ? WHERE id = ?', [
        to,
        resolvedAt,
        at,
        row.id,
      ]);
      await audit(tx, row, { by, at, kind: 'state', before: row.state, after: to });
      await onEvent?.(tx, {
        kind: 'state',
        ticketId: row.id,
        orgId: row.org_id,
        incident: await incidentRef(tx, row.incident_id),
        subject: row.subject,
        by,
        byStaff: isStaff(principal),
        at,
        state: to,
      });
      return ticketView(tx, { ...row, state: to, resolved_at: resolvedAt, updated_at: at }, now);
    },
    { lock: ticketLock(found.id) },
  );
}

/** Staff: assigns a ticket to a vendor-staff user (or nobody) and sets its priority. */
export async function updateTicket(
  db: Db,
  principal: TicketCaller,
  id: string,
  input: { assigneeId?: string | null; priority?: Priority },
  now: Date,
) {
  if (!isStaff(principal))
    throw new HttpError(403, 'FORBIDDEN', 'only vendor staff assign or prioritise tickets');
  const found = await loadTicket(db, { kind: 'all' }, id);
  return db.transaction(
    async (tx) => {
      const row = await loadTicket(tx, { kind: 'all' }, found.id);
      const at = now.toISOString();
      const by = actorOf(principal);
      const next = { ...row };
      if (input.assigneeId !== undefined && input.assigneeId !== row.assignee_id) {
        if (input.assigneeId !== null) {
          const user = await tx.get("SELECT id FROM users WHERE id = ? AND role = 'vendor-staff'", [
            input.assigneeId,
          ]);
          if (!user)
            throw new HttpError(400, 'INVALID', 'assignee must be a vendor-staff user', {
              field: 'assignee',
            });
        }
        await audit(tx, row, {
          by,
          at,
          kind: 'assignment',
          before: row.assignee_id,
          after: input.assigneeId,
        });
        next.assignee_id = input.assigneeId;
      }
      if (input.priority !== undefined && input.priority !== row.priority) {
        await audit(tx, row, { by, at, kind: 'priority', before: row.priority, after: input.priority });
        next.priority = input.priority;
      }
      if (next.assignee_id !== row.assignee_id || next.priority !== row.priority) {
        next.updated_at = at;
        await tx.run('UPDATE tickets SET assignee_id = ?, priority = ?, updated_at = ? WHERE id = ?', [
          next.assignee_id,
          next.priority,
          at,
          row.id,
        ]);
      }
      return ticketView(tx, next, now);
    },
    { lock: ticketLock(found.id) },
  );
}

/**
 * Staff: whether a free ticket counts against its organisation's quota. Not counting gives the use back (+1,
 * with who and why); counting again takes it (-1). A paid ticket never took one: 409.
 */
export async function setCounting(
  db: Db,
  principal: TicketCaller,
  id: string,
  input: { counts: boolean; reason: string },
  now: Date,
) {
  if (!isStaff(principal))
    throw new HttpError(403, 'FORBIDDEN', 'only vendor staff change whether a ticket counts');
  const found = await loadTicket(db, { kind: 'all' }, id);
  return db.transaction(
    async (tx) => {
      const row = await loadTicket(tx, { kind: 'all' }, found.id);
      if (Number(row.paid) === 1)
        throw new HttpError(409, 'PAID_TICKET', 'a paid ticket did not use a free ticket', {
          field: 'counts',
        });
      if ((Number(row.counts) === 1) === input.counts)
        throw new HttpError(
          409,
          'UNCHANGED',
          `the ticket ${input.counts ? 'counts' : 'does not count'} already`,
          {
            field: 'counts',
          },
        );
      const at = now.toISOString();
      const by = actorOf(principal);
      await tx.run('UPDATE tickets SET counts = ?, updated_at = ? WHERE id = ?', [
        input.counts ? 1 : 0,
        at,
        row.id,
      ]);
      await ledger(tx, row, { delta: input.counts ? -1 : 1, by, reason: input.reason, at });
      await audit(tx, row, {
        by,
        at,
        kind: 'counting',
        before: { counts: !input.counts },
        after: { counts: input.counts, reason: input.reason },
      });
      return ticketView(tx, { ...row, counts: input.counts ? 1 : 0, updated_at: at }, now);
    },
    { lock: quotaLock(found.org_id, found.incident_id) },
  );
}

/** A ticket's audit log, oldest first; customers never see entries about internal notes. */
export async function auditOf(db: Db, principal: TicketCaller, id: string) {
  const row = await loadTicket(db, scopeOf(principal), id);
  const rows = await db.all<Row>(
    `SELECT * FROM ticket_audit WHERE ticket_id = ? AND org_id = ? ${isStaff(principal) ? '' : 'AND internal = 0'}
     ORDER BY seq`,
    [row.id, row.org_id],
  );
  const parse = (value: unknown) => (value === null ? null : JSON.parse(String(value)));
  return rows.map((r) => ({
    seq: Number(r.seq),
    at: r.at,
    by: r.by_who,
    kind: r.kind,
    ...(isStaff(principal) ? { internal: Number(r.internal) === 1 } : {}),
    before: parse(r.before_value),
    after: parse(r.after_value),
  }));
}

/** One attachment's name and bytes, reached only through a ticket in scope; customers never reach a note's. */
export async function attachmentOf(db: Db, principal: TicketCaller, id: string, sha256: string) {
  const row = await loadTicket(db, scopeOf(principal), id);
  const attachment = await db.get<{ name: string }>(
    `SELECT a.name FROM ticket_attachments a JOIN ticket_messages m ON m.id = a.message_id
     WHERE a.ticket_id = ? AND a.org_id = ? AND a.sha256 = ? ${isStaff(principal) ? '' : 'AND m.internal = 0'}
     ORDER BY m.seq, a.position LIMIT 1`,
    [row.id, row.org_id, sha256],
  );
  const blob = attachment
    ? await db.get<{ content: string }>('SELECT content FROM ticket_blobs WHERE org_id = ? AND sha256 = ?', [
        row.org_id,
        sha256,
      ])
    : undefined;
  if (!attachment || !blob) throw new HttpError(404, 'NOT_FOUND', 'no such attachment');
  return { name: attachment.name, bytes: Buffer.from(blob.content, 'base64') };
}

/**
 * A reply that arrived by email: accepted onto the ticket only when the sender is a user of the ticket's
 * organisation (the same refusal whether the ticket is missing or another organisation's). `messageKey` names the
 * message: one already taken is refused, in the same transaction, so a message read twice lands once.
 */
export async function addEmailReply(
  db: Db,
  reply: { ticketId: string; senderEmail: string; body: string; receivedAt: Date; messageKey: string },
  onEvent?: OnTicketEvent,
): Promise<{ accepted: true; messageId: string } | { accepted: false; reason: string }> {
  const refused = {
    accepted: false as const,
    reason: "the sender is not a member of the ticket's organisation",
  };
  const body = reply.body.replaceAll(String.fromCharCode(0), '');
  if (body.trim().length === 0) return { accepted: false, reason: 'the reply is empty' };
  if (body.length > MESSAGE_MAX_CHARS)
    return { accepted: false, reason: `the reply is over ${MESSAGE_MAX_CHARS} characters` };
  const sender = await db.get<{ id: string; org_id: string; role: string }>(
    'SELECT id, org_id, role FROM users WHERE email = ?',
    [reply.senderEmail.trim().toLowerCase()],
  );
  if (!sender) return refused;
  const row = await db.get<TicketRow>('SELECT * FROM tickets WHERE id = ? AND org_id = ?', [
    reply.ticketId,
    sender.org_id,
  ]);
  if (!row) return refused;
  try {
    const stored = await db.transaction(
      async (tx) => {
        const fresh = await tx.run(
          `INSERT INTO mail_inbound (message_key, ticket_id, outcome, received_at) VALUES (?, ?, 'accepted', ?)
           ON CONFLICT (message_key) DO NOTHING`,
          [reply.messageKey, row.id, reply.receivedAt.toISOString()],
        );
        if (fresh === 0) return undefined;
        return addMessageTo(
          tx,
          await loadTicket(tx, { kind: 'org', orgId: sender.org_id }, row.id),
          {
            body,
            internal: false,
            staff: sender.role === 'vendor-staff',
            by: `user:${sender.id}`,
            via: 'email',
            at: reply.receivedAt.toISOString(),
          },
          [],
          onEvent,
        );
      },
      { lock: ticketLock(row.id) },
    );
    if (!stored) return { accepted: false, reason: 'this message was already received' };
    return { accepted: true, messageId: stored.id };
  } catch (error) {
    if (error instanceof HttpError) return { accepted: false, reason: error.message };
    throw error;
  }
}
