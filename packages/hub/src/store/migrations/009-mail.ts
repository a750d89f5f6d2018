import type { Migration } from '../migration.js';

/**
 * Email of the support desk: the outbox of notifications (sent by a delivery loop, retried, shared by every hub
 * process), the reply addresses handed to each recipient of a ticket's mail (a random token per ticket and user),
 * and the inbound messages already taken from the mailbox (so a message read twice lands once).
 */
export const MAIL_MIGRATION: Migration = {
  version: 9,
  name: 'mail',
  up: `
CREATE TABLE mail_outbox (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  ticket_id TEXT,
  to_addr TEXT NOT NULL,
  subject TEXT NOT NULL,
  text_body TEXT NOT NULL,
  reply_to TEXT,
  thread_id TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  next_attempt_at TEXT,
  claimed_by TEXT,
  claim_expires_at TEXT,
  last_error TEXT,
  finished_at TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_ticket ON mail_outbox (ticket_id);
CREATE TABLE mail_reply_addresses (
  token TEXT PRIMARY KEY,
  ticket_id TEXT NOT NULL REFERENCES tickets (id),
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  UNIQUE (ticket_id, user_id)
);
CREATE TABLE mail_inbound (
  message_key TEXT PRIMARY KEY,
  ticket_id TEXT,
  outcome TEXT NOT NULL,
  received_at TEXT NOT NULL
);
`,
};
