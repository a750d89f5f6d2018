import type { Migration } from '../migration.js';

/**
 * Signed packs uploaded to the hub (the archive itself as base64, so every hub process on one database serves
 * the same bytes), the signed feed indexes published from them, and the retro-hunt run of each pack sequence
 * with its per-organisation counts.
 */
export const PACKS_MIGRATION: Migration = {
  version: 3,
  name: 'packs',
  up: `
CREATE TABLE hub_packs (
  pack_id TEXT NOT NULL,
  sequence BIGINT NOT NULL,
  title TEXT NOT NULL,
  manifest_digest TEXT NOT NULL,
  key_id TEXT NOT NULL,
  published TEXT NOT NULL,
  expires TEXT NOT NULL,
  archive_sha256 TEXT NOT NULL,
  archive_size BIGINT NOT NULL,
  archive TEXT NOT NULL,
  uploaded_by TEXT NOT NULL,
  uploaded_at TEXT NOT NULL,
  PRIMARY KEY (pack_id, sequence)
);
CREATE TABLE feed_publications (
  sequence BIGINT PRIMARY KEY,
  key_id TEXT NOT NULL,
  basis TEXT NOT NULL,
  published_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  renew_at TEXT NOT NULL,
  index_json TEXT NOT NULL,
  signature TEXT NOT NULL
);
CREATE TABLE retro_hunts (
  id TEXT PRIMARY KEY,
  pack_id TEXT NOT NULL,
  pack_sequence BIGINT NOT NULL,
  status TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  claimed_by TEXT,
  heartbeat_at TEXT,
  cursor_host TEXT,
  hosts_checked BIGINT NOT NULL DEFAULT 0,
  hosts_flagged BIGINT NOT NULL DEFAULT 0,
  findings_added BIGINT NOT NULL DEFAULT 0,
  duration_ms BIGINT,
  error TEXT,
  UNIQUE (pack_id, pack_sequence)
);
CREATE TABLE retro_hunt_orgs (
  run_id TEXT NOT NULL,
  org_id TEXT NOT NULL,
  hosts_checked BIGINT NOT NULL DEFAULT 0,
  hosts_flagged BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, org_id)
);
`,
};
