import type { Migration } from '../migration.js';

const TABLES = `
CREATE TABLE tickets (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  incident_id TEXT NOT NULL REFERENCES incidents (id),
  subject TEXT NOT NULL,
  priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
  state TEXT NOT NULL CHECK (state IN ('new', 'open', 'pending', 'resolved', 'closed')),
  assignee_id TEXT REFERENCES users (id),
  paid INTEGER NOT NULL,
  counts INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  first_response_at TEXT,
  resolved_at TEXT
);
CREATE INDEX tickets_org ON tickets (org_id, created_at);
CREATE TABLE ticket_messages (
  id TEXT PRIMARY KEY,
  ticket_id TEXT NOT NULL REFERENCES tickets (id),
  org_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  internal INTEGER NOT NULL,
  body TEXT NOT NULL,
  author TEXT NOT NULL,
  via TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, seq);
CREATE TABLE ticket_blobs (
  org_id TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  content TEXT NOT NULL,
  PRIMARY KEY (org_id, sha256)
);
CREATE TABLE ticket_attachments (
  message_id TEXT NOT NULL REFERENCES ticket_messages (id),
  ticket_id TEXT NOT NULL REFERENCES tickets (id),
  org_id TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (message_id, sha256)
);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments (ticket_id, sha256);
CREATE TABLE ticket_ledger (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  incident_id TEXT NOT NULL,
  ticket_id TEXT NOT NULL REFERENCES tickets (id),
  delta INTEGER NOT NULL CHECK (delta IN (-1, 1)),
  by_who TEXT NOT NULL,
  reason TEXT,
  at TEXT NOT NULL,
  seq INTEGER NOT NULL
);
CREATE INDEX ticket_ledger_use ON ticket_ledger (org_id, incident_id);
CREATE TABLE ticket_audit (
  id TEXT PRIMARY KEY,
  ticket_id TEXT NOT NULL REFERENCES tickets (id),
  org_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  at TEXT NOT NULL,
  by_who TEXT NOT NULL,
  kind TEXT NOT NULL,
  internal INTEGER NOT NULL,
  before_value TEXT,
  after_value TEXT,
  UNIQUE (ticket_id, seq)
);
`;

const APPEND_ONLY = ['ticket_audit', 'ticket_ledger'];

/**
 * Support tickets per organisation with messages, internal notes, attachments by content hash, the ledger of
 * free-ticket uses and an append-only audit log (the database itself refuses to update or delete ledger and
 * audit rows).
 */
export const TICKETS_MIGRATION: Migration = {
  version: 8,
  name: 'tickets',
  up: {
    sqlite:
      TABLES +
      APPEND_ONLY.map((table) =>
        ['UPDATE', 'DELETE']
          .map(
            (op) =>
              `CREATE TRIGGER ${table}_no_${op.toLowerCase()} BEFORE ${op} ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;`,
          )
          .join('\n'),
      ).join('\n'),
    postgres: `${TABLES}
CREATE FUNCTION tickets_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;
${APPEND_ONLY.map(
  (table) =>
    `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION tickets_append_only();`,
).join('\n')}
`,
  },
};
