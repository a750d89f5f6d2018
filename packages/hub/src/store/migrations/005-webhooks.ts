import type { Migration } from '../migration.js';

/**
 * Webhooks: each organisation's endpoints (the signing secret sealed with the hub's webhook key, never as
 * plain text) and the events each subscribes to; the outbox of vendor-wide events; one delivery per webhook
 * and event (unique, so an event enqueued twice is delivered once), claimed by one hub process at a time
 * (`claimed_by` until `claim_expires_at`), with every attempt logged.
 */
export const WEBHOOKS_MIGRATION: Migration = {
  version: 5,
  name: 'webhooks',
  up: `
CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  url TEXT NOT NULL,
  description TEXT NOT NULL,
  sealed_secret TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL
);
CREATE INDEX webhooks_org ON webhooks (org_id, created_at);

CREATE TABLE webhook_subscriptions (
  webhook_id TEXT NOT NULL REFERENCES webhooks (id),
  org_id TEXT NOT NULL REFERENCES orgs (id),
  event TEXT NOT NULL,
  PRIMARY KEY (webhook_id, event)
);
CREATE INDEX webhook_subscriptions_event ON webhook_subscriptions (event);

CREATE TABLE webhook_events (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  at TEXT NOT NULL,
  body TEXT NOT NULL,
  enqueued_at TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  webhook_id TEXT NOT NULL REFERENCES webhooks (id),
  event_id TEXT NOT NULL REFERENCES webhook_events (id),
  event TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  next_attempt_at TEXT,
  claimed_by TEXT,
  claim_expires_at TEXT,
  last_attempt_at TEXT,
  last_status_code INTEGER,
  last_error TEXT,
  finished_at TEXT,
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at);

CREATE TABLE webhook_attempts (
  delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
  attempt INTEGER NOT NULL,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  started_at TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  PRIMARY KEY (delivery_id, attempt)
);
`,
};
