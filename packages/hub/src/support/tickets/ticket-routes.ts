import { Hono } from 'hono';
import { ANY_ROLE, requireRole } from '../../http/access.js';
import { choiceField, lineField, markdownField, queryCount } from '../../http/fields.js';
import { HttpError } from '../../http/http-error.js';
import type { HubDeps, HubEnv, RouteModule } from '../../http/hub-env.js';
import { onlyFields, readJsonObject } from '../../http/json-body.js';
import { access, ERROR_RESPONSE, jsonBody, jsonResponse } from '../../http/openapi.js';
import { scopeOf } from '../../tenancy.js';
import { getIncident } from '../incidents.js';
import { attachmentDisposition, uploadsField } from './attachments.js';
import { MESSAGE_MAX_CHARS, PRIORITIES, STATES } from './rules.js';
import {
  addMessage,
  attachmentOf,
  auditOf,
  changeState,
  getTicket,
  listTickets,
  type OnTicketEvent,
  openTicket,
  quotaOf,
  setCounting,
  updateTicket,
} from './tickets.js';

const STAFF = ['vendor-staff'] as const;
/** Tickets per page of the list: by default, and at most. */
export const TICKET_PAGE = { default: 50, max: 200 } as const;
const SHA256 = /^[0-9a-f]{64}$/;

const bodyField = (value: unknown) => markdownField(value, 'body', MESSAGE_MAX_CHARS);

/**
 * Support tickets: customers open them about an incident within their organisation's free quota, both sides
 * write messages (staff also internal notes), staff assign and prioritise; every change lands in the audit log.
 * `onEvent` hears every public change inside its transaction (for notifications).
 */
export function ticketRoutes(deps: HubDeps, onEvent?: OnTicketEvent): RouteModule {
  const routes = new Hono<HubEnv>()
    .post('/api/v1/tickets', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const body = onlyFields(await readJsonObject(c), [
        'org',
        'incident',
        'subject',
        'priority',
        'body',
        'attachments',
      ]);
      const staff = principal.role === 'vendor-staff';
      const ticket = await openTicket(
        deps.db,
        principal,
        {
          orgId: staff && body.org !== undefined ? lineField(body.org, 'org', 64) : principal.orgId,
          incident: lineField(body.incident, 'incident', 64),
          subject: lineField(body.subject, 'subject', 200),
          priority:
            body.priority === undefined ? 'normal' : choiceField(body.priority, 'priority', PRIORITIES),
          ...(body.body !== undefined ? { body: bodyField(body.body) } : {}),
          attachments: uploadsField(body.attachments),
        },
        deps.now(),
        onEvent,
      );
      return c.json({ ticket }, 201);
    })
    .get('/api/v1/tickets', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const q = (name: string) => c.req.query(name);
      const tickets = await listTickets(
        deps.db,
        scopeOf(principal),
        {
          ...(q('state') !== undefined ? { state: choiceField(q('state'), 'state', STATES) } : {}),
          ...(q('priority') !== undefined
            ? { priority: choiceField(q('priority'), 'priority', PRIORITIES) }
            : {}),
          ...(q('incident') !== undefined ? { incident: lineField(q('incident'), 'incident', 64) } : {}),
          ...(q('assignee') !== undefined ? { assignee: lineField(q('assignee'), 'assignee', 64) } : {}),
          ...(q('org') !== undefined ? { org: lineField(q('org'), 'org', 64) } : {}),
        },
        {
          limit: queryCount(q('limit'), 'limit', TICKET_PAGE.default, TICKET_PAGE.max),
          ...(q('cursor') ? { cursor: q('cursor') as string } : {}),
        },
        deps.now(),
      );
      return c.json(tickets);
    })
    .get('/api/v1/tickets/:id', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      return c.json({ ticket: await getTicket(deps.db, principal, c.req.param('id'), deps.now()) });
    })
    .patch('/api/v1/tickets/:id', async (c) => {
      const principal = requireRole(c, STAFF);
      const body = onlyFields(await readJsonObject(c), ['assignee', 'priority']);
      const ticket = await updateTicket(
        deps.db,
        principal,
        c.req.param('id'),
        {
          ...(body.assignee !== undefined
            ? { assigneeId: body.assignee === null ? null : lineField(body.assignee, 'assignee', 64) }
            : {}),
          ...(body.priority !== undefined
            ? { priority: choiceField(body.priority, 'priority', PRIORITIES) }
            : {}),
        },
        deps.now(),
      );
      return c.json({ ticket });
    })
    .post('/api/v1/tickets/:id/messages', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const body = onlyFields(await readJsonObject(c), ['body', 'internal', 'attachments']);
      if (body.internal !== undefined && typeof body.internal !== 'boolean')
        throw new HttpError(400, 'INVALID', 'internal must be true or false', { field: 'internal' });
      const message = await addMessage(
        deps.db,
        principal,
        c.req.param('id'),
        {
          body: bodyField(body.body),
          internal: body.internal === true,
          attachments: uploadsField(body.attachments),
        },
        deps.now(),
        onEvent,
      );
      return c.json({ message }, 201);
    })
    .post('/api/v1/tickets/:id/state', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const body = onlyFields(await readJsonObject(c), ['to']);
      const ticket = await changeState(
        deps.db,
        principal,
        c.req.param('id'),
        choiceField(body.to, 'to', STATES),
        deps.now(),
        onEvent,
      );
      return c.json({ ticket });
    })
    .post('/api/v1/tickets/:id/counting', async (c) => {
      const principal = requireRole(c, STAFF);
      const body = onlyFields(await readJsonObject(c), ['counts', 'reason']);
      if (typeof body.counts !== 'boolean')
        throw new HttpError(400, 'INVALID', 'counts must be true or false', { field: 'counts' });
      const ticket = await setCounting(
        deps.db,
        principal,
        c.req.param('id'),
        { counts: body.counts, reason: lineField(body.reason, 'reason', 500) },
        deps.now(),
      );
      return c.json({ ticket });
    })
    .get('/api/v1/tickets/:id/audit', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      return c.json({ audit: await auditOf(deps.db, principal, c.req.param('id')) });
    })
    .get('/api/v1/tickets/:id/attachments/:hash', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const hash = c.req.param('hash');
      if (!SHA256.test(hash)) throw new HttpError(404, 'NOT_FOUND', 'no such attachment');
      const file = await attachmentOf(deps.db, principal, c.req.param('id'), hash);
      return c.body(new Uint8Array(file.bytes), 200, {
        'Content-Type': 'application/octet-stream',
        'Content-Disposition': attachmentDisposition(file.name),
        'X-Content-Type-Options': 'nosniff',
        'Content-Security-Policy': "default-src 'none'; sandbox",
        'Cache-Control': 'private, no-store',
      });
    })
    .get('/api/v1/incidents/:id/quota', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const incident = await getIncident(deps.db, c.req.param('id'));
      if (!incident) throw new HttpError(404, 'NOT_FOUND', 'no such incident');
      const scope = scopeOf(principal);
      const org = c.req.query('org');
      const orgId = scope.kind === 'all' && org !== undefined ? lineField(org, 'org', 64) : principal.orgId;
      return c.json(await quotaOf(deps.db, orgId, incident));
    });

  const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
  const query = (name: string, schema: Record<string, unknown> = { type: 'string' }) => ({
    name,
    in: 'query',
    required: false,
    schema,
  });
  const upload = {
    type: 'array',
    maxItems: 10,
    items: {
      type: 'object',
      required: ['name', 'contentBase64'],
      properties: { name: { type: 'string' }, contentBase64: { type: 'string', contentEncoding: 'base64' } },
    },
  };
  const ok = (description: string) => ({ '200': jsonResponse(description), default: ERROR_RESPONSE });
  return {
    routes,
    openapi: {
      '/api/v1/tickets': {
        post: {
          summary:
            "Open a ticket about an incident; uses one of the organisation's free tickets, beyond them 409 QUOTA_USED_UP (with a forum link) or a paid ticket",
          ...access(ANY_ROLE),
          requestBody: jsonBody({
            type: 'object',
            required: ['incident', 'subject'],
            properties: {
              incident: { type: 'string', description: 'id or slug' },
              subject: { type: 'string', maxLength: 200 },
              priority: { enum: [...PRIORITIES] },
              body: { type: 'string' },
              attachments: upload,
              org: { type: 'string', description: 'vendor staff: the organisation' },
            },
          }),
          responses: { '201': jsonResponse('The ticket'), default: ERROR_RESPONSE },
        },
        get: {
          summary:
            'Tickets in the caller’s scope, newest first, a page at a time (`nextCursor` for the next)',
          ...access(ANY_ROLE),
          parameters: [
            query('state', { enum: [...STATES] }),
            query('priority', { enum: [...PRIORITIES] }),
            query('incident'),
            query('assignee'),
            query('org'),
            query('limit', { type: 'integer', minimum: 1, maximum: TICKET_PAGE.max }),
            query('cursor'),
          ],
          responses: ok('The tickets'),
        },
      },
      '/api/v1/tickets/{id}': {
        get: {
          summary: 'One ticket with its messages, SLA clocks and attachments (internal notes for staff only)',
          ...access(ANY_ROLE),
          parameters: [id],
          responses: ok('The ticket'),
        },
        patch: {
          summary: 'Assign a ticket to vendor staff or change its priority',
          ...access(STAFF),
          parameters: [id],
          requestBody: jsonBody({
            type: 'object',
            properties: { assignee: { type: ['string', 'null'] }, priority: { enum: [...PRIORITIES] } },
          }),
          responses: ok('The ticket'),
        },
      },
      '/api/v1/tickets/{id}/messages': {
        post: {
          summary: 'Add a message (Markdown, attachments as base64); staff may make it an internal note',
          ...access(ANY_ROLE),
          parameters: [id],
          requestBody: jsonBody({
            type: 'object',
            required: ['body'],
            properties: { body: { type: 'string' }, internal: { type: 'boolean' }, attachments: upload },
          }),
          responses: { '201': jsonResponse('The message'), default: ERROR_RESPONSE },
        },
      },
      '/api/v1/tickets/{id}/state': {
        post: {
          summary: 'Move a ticket to another state (409 naming `to` for a move the table does not allow)',
          ...access(ANY_ROLE),
          parameters: [id],
          requestBody: jsonBody({
            type: 'object',
            required: ['to'],
            properties: { to: { enum: [...STATES] } },
          }),
          responses: ok('The ticket'),
        },
      },
      '/api/v1/tickets/{id}/counting': {
        post: {
          summary:
            "Whether a ticket counts against its organisation's free tickets (a ledger entry with the reason)",
          ...access(STAFF),
          parameters: [id],
          requestBody: jsonBody({
            type: 'object',
            required: ['counts', 'reason'],
            properties: { counts: { type: 'boolean' }, reason: { type: 'string' } },
          }),
          responses: ok('The ticket'),
        },
      },
      '/api/v1/tickets/{id}/audit': {
        get: {
          summary: "A ticket's append-only audit log (customers: public entries only)",
          ...access(ANY_ROLE),
          parameters: [id],
          responses: ok('The audit log'),
        },
      },
      '/api/v1/tickets/{id}/attachments/{hash}': {
        get: {
          summary: 'An attachment by its SHA-256, as a download (application/octet-stream, nosniff)',
          ...access(ANY_ROLE),
          parameters: [id, { name: 'hash', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'The bytes', content: { 'application/octet-stream': {} } },
            default: ERROR_RESPONSE,
          },
        },
      },
      '/api/v1/incidents/{id}/quota': {
        get: {
          summary: "The caller's organisation's free tickets for an incident: quota, used, remaining, ledger",
          ...access(ANY_ROLE),
          parameters: [id, query('org')],
          responses: ok('The quota'),
        },
      },
    },
  };
}
