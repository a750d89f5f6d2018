import type { Migration } from '../migration.js';

/** The tables, with `ID` standing for an auto-numbered primary key in each dialect. */
const TABLES = `
CREATE TABLE hosts (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  claimed_host_id TEXT NOT NULL,
  hostname TEXT NOT NULL,
  hostname_key TEXT NOT NULL,
  os TEXT,
  os_family TEXT,
  os_release TEXT,
  arch TEXT,
  addresses TEXT NOT NULL DEFAULT '[]',
  enrolled_at TEXT,
  first_report_at TEXT,
  last_report_at TEXT,
  last_agent_id TEXT,
  state TEXT NOT NULL,
  base_state TEXT NOT NULL,
  state_since TEXT NOT NULL,
  state_evidence TEXT NOT NULL DEFAULT '{}',
  cloned INTEGER NOT NULL DEFAULT 0,
  re_enrolled INTEGER NOT NULL DEFAULT 0,
  identity_evidence TEXT NOT NULL DEFAULT '{}',
  apps_report_id TEXT,
  files_report_id TEXT,
  sweep_report_id TEXT,
  cleared_at TEXT,
  files_digest TEXT,
  UNIQUE (org_id, claimed_host_id)
);
CREATE INDEX hosts_org_state_name ON hosts (org_id, state, hostname_key, id);
CREATE INDEX hosts_org_name ON hosts (org_id, hostname_key, id);
CREATE INDEX hosts_state_name ON hosts (state, hostname_key, id);
CREATE INDEX hosts_name ON hosts (hostname_key, id);
CREATE INDEX hosts_org_base_report ON hosts (org_id, base_state, last_report_at);
CREATE INDEX hosts_org_state_report ON hosts (org_id, state, last_report_at);
CREATE INDEX hosts_cloned ON hosts (org_id) WHERE cloned = 1;

CREATE TABLE reports (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  report_id TEXT NOT NULL,
  host_id TEXT REFERENCES hosts (id),
  agent_id TEXT REFERENCES agents (id),
  uploaded_by TEXT,
  origin TEXT NOT NULL CHECK (origin IN ('agent', 'central-hunt')),
  command TEXT NOT NULL,
  tool_version TEXT NOT NULL,
  hostname TEXT NOT NULL,
  received_at TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  observed_at TEXT NOT NULL,
  outcome TEXT NOT NULL,
  size_bytes BIGINT NOT NULL,
  findings_count INTEGER NOT NULL,
  packs TEXT NOT NULL,
  coverage TEXT NOT NULL,
  body TEXT,
  body_encoding TEXT,
  UNIQUE (org_id, report_id)
);
CREATE INDEX reports_host_observed ON reports (host_id, observed_at);
CREATE INDEX reports_org_received ON reports (org_id, received_at);

CREATE TABLE findings (
  id ID,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  host_id TEXT NOT NULL REFERENCES hosts (id),
  report_id TEXT NOT NULL REFERENCES reports (id),
  origin TEXT NOT NULL CHECK (origin IN ('agent', 'retro-hunt', 'central-hunt')),
  fingerprint TEXT NOT NULL,
  kind TEXT NOT NULL,
  indicator_id TEXT NOT NULL,
  pack_id TEXT NOT NULL,
  pack_sequence BIGINT,
  severity TEXT NOT NULL,
  title TEXT NOT NULL,
  subject TEXT NOT NULL,
  evidence TEXT NOT NULL,
  observed_at TEXT NOT NULL,
  current INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE INDEX findings_host_current ON findings (host_id, current);
CREATE INDEX findings_report ON findings (report_id);
CREATE INDEX findings_org_indicator ON findings (org_id, indicator_id, current);
CREATE INDEX findings_org_pack ON findings (org_id, pack_id, current);
CREATE INDEX findings_indicator ON findings (indicator_id, current);
CREATE INDEX findings_pack ON findings (pack_id, current);

CREATE TABLE host_apps (
  org_id TEXT NOT NULL REFERENCES orgs (id),
  host_id TEXT NOT NULL REFERENCES hosts (id),
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  version TEXT NOT NULL,
  publisher TEXT,
  bundle_id TEXT,
  source TEXT NOT NULL,
  location TEXT NOT NULL,
  app TEXT NOT NULL,
  verdicts TEXT NOT NULL DEFAULT '[]',
  affected INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (host_id, position)
);
CREATE INDEX host_apps_org_name ON host_apps (org_id, name_key, version);
CREATE INDEX host_apps_name ON host_apps (name_key, version);

CREATE TABLE host_files (
  org_id TEXT NOT NULL REFERENCES orgs (id),
  host_id TEXT NOT NULL REFERENCES hosts (id),
  position INTEGER NOT NULL,
  path TEXT NOT NULL,
  size BIGINT,
  sha256 TEXT,
  sha1 TEXT,
  md5 TEXT,
  PRIMARY KEY (host_id, position)
);
CREATE INDEX host_files_sha256 ON host_files (sha256);
CREATE INDEX host_files_sha1 ON host_files (sha1) WHERE sha1 IS NOT NULL;
CREATE INDEX host_files_md5 ON host_files (md5) WHERE md5 IS NOT NULL;

CREATE TABLE host_addresses (
  org_id TEXT NOT NULL REFERENCES orgs (id),
  host_id TEXT NOT NULL REFERENCES hosts (id),
  address TEXT NOT NULL,
  PRIMARY KEY (host_id, address)
);
CREATE INDEX host_addresses_org_address ON host_addresses (org_id, address);

CREATE TABLE host_agents (
  org_id TEXT NOT NULL REFERENCES orgs (id),
  host_id TEXT NOT NULL REFERENCES hosts (id),
  agent_id TEXT NOT NULL REFERENCES agents (id),
  hostname TEXT NOT NULL,
  first_report_at TEXT,
  last_report_at TEXT,
  reports INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (host_id, agent_id)
);

CREATE TABLE host_events (
  id ID,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  host_id TEXT NOT NULL REFERENCES hosts (id),
  at TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('enrolled', 'renamed', 're-enrolled', 'cloned')),
  detail TEXT NOT NULL
);
CREATE INDEX host_events_host ON host_events (host_id, at);

CREATE TABLE host_state_changes (
  id ID,
  org_id TEXT NOT NULL REFERENCES orgs (id),
  host_id TEXT NOT NULL REFERENCES hosts (id),
  at TEXT NOT NULL,
  day TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  report_id TEXT,
  evidence TEXT NOT NULL
);
CREATE INDEX host_state_changes_org_day ON host_state_changes (org_id, day, from_state, to_state);
CREATE INDEX host_state_changes_day ON host_state_changes (day, from_state, to_state);
CREATE INDEX host_state_changes_host ON host_state_changes (host_id, at);

CREATE TABLE fleet_secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

/**
 * The fleet: hosts (keyed by organisation and the id the machine claims), the reports they sent (idempotent on
 * `report_id` per organisation, the body kept gzip-compressed), their findings (from the agent, the retro-hunt or a
 * central hunt; `current` marks those the host's state rests on), the facts of each host's latest report
 * (`host_apps`, `host_files`, `host_addresses`), the agents that reported for each host, identity events, and
 * every state change with its day (the per-organisation daily trend is derived from these).
 */
export const FLEET_MIGRATION: Migration = {
  version: 2,
  name: 'fleet',
  up: {
    sqlite: TABLES.replaceAll(' ID,', ' INTEGER PRIMARY KEY,'),
    postgres: TABLES.replaceAll(' ID,', ' BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,'),
  },
};
