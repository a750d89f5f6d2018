import type { Migration } from '../migration.js';

/**
 * Organisations, their users, sessions, API and enrolment tokens, enrolled agents, and login attempt counters.
 * Ids are random UUIDs as text, times ISO-8601 text (UTC, so text order is time order), booleans 0/1. Every
 * secret is stored as the SHA-256 of the value handed out; passwords as scrypt with their salt and parameters.
 */
export const TENANCY: Migration = {
  version: 1,
  name: 'tenancy',
  up: `
CREATE TABLE orgs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  stale_days INTEGER,
  created_at TEXT NOT NULL
);
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  email TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('vendor-staff', 'org-admin', 'org-member')),
  password_hash TEXT NOT NULL,
  password_salt TEXT NOT NULL,
  password_params TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX users_org ON users (org_id);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  csrf_secret TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  token_hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('vendor-staff', 'org-admin', 'org-member')),
  created_at TEXT NOT NULL,
  expires_at TEXT,
  revoked INTEGER NOT NULL DEFAULT 0,
  revoked_at TEXT
);
CREATE INDEX api_tokens_org ON api_tokens (org_id);
CREATE TABLE enrol_tokens (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  token_hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  max_uses INTEGER,
  uses INTEGER NOT NULL DEFAULT 0,
  revoked INTEGER NOT NULL DEFAULT 0,
  revoked_at TEXT
);
CREATE INDEX enrol_tokens_org ON enrol_tokens (org_id);
CREATE TABLE agents (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  host_id TEXT NOT NULL,
  hostname TEXT NOT NULL,
  credential_hash TEXT NOT NULL UNIQUE,
  enrol_token_id TEXT REFERENCES enrol_tokens (id),
  enrolled_at TEXT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  revoked_at TEXT
);
CREATE INDEX agents_org_host ON agents (org_id, host_id);
CREATE TABLE login_attempts (
  key TEXT PRIMARY KEY,
  attempts INTEGER NOT NULL,
  window_start TEXT NOT NULL
);
CREATE INDEX login_attempts_window ON login_attempts (window_start);
`,
};
