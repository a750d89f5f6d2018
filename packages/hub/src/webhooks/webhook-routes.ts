import { Hono } from 'hono';
import { requireRole } from '../http/access.js';
import type { HubDeps, HubEnv, RouteModule } from '../http/hub-env.js';
import { readJsonObject } from '../http/json-body.js';
import { access, ERROR_RESPONSE, jsonBody, jsonResponse } from '../http/openapi.js';
import { scopeOf } from '../tenancy.js';
import { WEBHOOK_EVENTS } from './outbox.js';
import type { WebhookSettings } from './webhook-settings.js';
import {
  createWebhook,
  deleteWebhook,
  listDeliveries,
  listWebhooks,
  MAX_WEBHOOKS_PER_ORG,
} from './webhook-store.js';
import { MAX_URL_LENGTH } from './webhook-url.js';

const ADMINS = ['vendor-staff', 'org-admin'] as const;

/** An organisation's webhooks, for its admins (and vendor staff): register, list, delete, and the delivery log. */
export function webhookRoutes(deps: HubDeps, settings: WebhookSettings): RouteModule {
  const routes = new Hono<HubEnv>()
    .get('/api/v1/webhooks', async (c) => {
      const principal = requireRole(c, ADMINS);
      return c.json({ webhooks: await listWebhooks(deps.db, scopeOf(principal)) });
    })
    .post('/api/v1/webhooks', async (c) => {
      const principal = requireRole(c, ADMINS);
      const body = await readJsonObject(c);
      const createdBy = principal.kind === 'user' ? `user:${principal.userId}` : `api:${principal.tokenId}`;
      const made = await createWebhook(deps.db, scopeOf(principal), body, {
        settings,
        now: deps.now(),
        createdBy,
      });
      return c.json({ secret: made.secret, ...made.info }, 201, {
        location: `/api/v1/webhooks/${made.info.id}`,
      });
    })
    .delete('/api/v1/webhooks/:id', async (c) => {
      const principal = requireRole(c, ADMINS);
      await deleteWebhook(deps.db, scopeOf(principal), c.req.param('id'));
      return c.body(null, 204);
    })
    .get('/api/v1/webhooks/:id/deliveries', async (c) => {
      const principal = requireRole(c, ADMINS);
      return c.json({ deliveries: await listDeliveries(deps.db, scopeOf(principal), c.req.param('id')) });
    });

  const webhook = {
    type: 'object',
    properties: {
      id: { type: 'string' },
      orgId: { type: 'string' },
      url: { type: 'string' },
      events: { type: 'array', items: { enum: [...WEBHOOK_EVENTS] } },
      description: { type: 'string' },
      createdAt: { type: 'string', format: 'date-time' },
    },
  };
  const nullableString = { type: ['string', 'null'] };
  const delivery = {
    type: 'object',
    properties: {
      id: { type: 'string', description: 'sent as X-Chainsweep-Delivery' },
      eventId: { type: 'string', description: 'the body id; the same for every webhook and attempt' },
      event: { enum: [...WEBHOOK_EVENTS] },
      status: { enum: ['pending', 'delivered', 'failed'] },
      attempts: { type: 'integer' },
      lastStatusCode: { type: ['integer', 'null'] },
      lastError: nullableString,
      createdAt: { type: 'string' },
      lastAttemptAt: nullableString,
      nextAttemptAt: nullableString,
      finishedAt: nullableString,
      log: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            attempt: { type: 'integer' },
            startedAt: { type: 'string' },
            durationMs: { type: 'integer' },
            statusCode: { type: ['integer', 'null'] },
            error: nullableString,
          },
        },
      },
    },
  };
  const id = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
  return {
    routes,
    openapi: {
      '/api/v1/webhooks': {
        get: {
          summary: "The organisation's webhooks (never their secrets)",
          ...access(ADMINS),
          responses: {
            '200': jsonResponse('Webhooks', {
              type: 'object',
              properties: { webhooks: { type: 'array', items: webhook } },
            }),
            '401': ERROR_RESPONSE,
            '403': ERROR_RESPONSE,
          },
        },
        post: {
          summary: `Register a webhook (at most ${MAX_WEBHOOKS_PER_ORG} per organisation); its signing secret is in this response only`,
          description:
            'Each delivery is a POST of {id, event, at, data} with X-Chainsweep-Event, X-Chainsweep-Delivery, ' +
            'X-Chainsweep-Timestamp (Unix seconds) and X-Chainsweep-Signature: sha256=<hex HMAC-SHA256 of ' +
            '"<timestamp>.<body>" keyed by the secret>. A 2xx answer is a delivery; anything else is retried with backoff.',
          ...access(ADMINS),
          requestBody: jsonBody({
            type: 'object',
            required: ['url', 'events'],
            properties: {
              url: {
                type: 'string',
                format: 'uri',
                maxLength: MAX_URL_LENGTH,
                description: 'https, on a public address',
              },
              events: { type: 'array', minItems: 1, items: { enum: [...WEBHOOK_EVENTS] } },
              description: { type: 'string', maxLength: 500 },
              orgId: { type: 'string', description: 'vendor staff only' },
            },
          }),
          responses: {
            '201': jsonResponse('Registered', {
              ...webhook,
              properties: { ...webhook.properties, secret: { type: 'string' } },
            }),
            '400': ERROR_RESPONSE,
            '401': ERROR_RESPONSE,
            '403': ERROR_RESPONSE,
            '404': ERROR_RESPONSE,
            '409': ERROR_RESPONSE,
          },
        },
      },
      '/api/v1/webhooks/{id}': {
        delete: {
          summary: 'Delete a webhook and its delivery log; pending deliveries are not sent',
          ...access(ADMINS),
          parameters: id,
          responses: {
            '204': { description: 'Deleted' },
            '401': ERROR_RESPONSE,
            '403': ERROR_RESPONSE,
            '404': ERROR_RESPONSE,
          },
        },
      },
      '/api/v1/webhooks/{id}/deliveries': {
        get: {
          summary: "A webhook's newest deliveries, each with every attempt",
          ...access(ADMINS),
          parameters: id,
          responses: {
            '200': jsonResponse('Deliveries', {
              type: 'object',
              properties: { deliveries: { type: 'array', items: delivery } },
            }),
            '401': ERROR_RESPONSE,
            '403': ERROR_RESPONSE,
            '404': ERROR_RESPONSE,
          },
        },
      },
    },
  };
}
