import type { Migration } from '../migration.js';

/**
 * Advisories and every revision of each: a save before publication is a draft revision (no `number`, staff only);
 * publishing makes revision 1, and each later revision of a published advisory is published with the next number.
 * `tracking_id` and `initial_release_date` are set once and never changed.
 */
export const ADVISORIES_MIGRATION: Migration = {
  version: 4,
  name: 'advisories',
  up: `
CREATE TABLE advisories (
  id TEXT PRIMARY KEY,
  tracking_id TEXT NOT NULL UNIQUE,
  slug TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL CHECK (state IN ('draft', 'published')),
  tlp TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  initial_release_date TEXT,
  current_release_date TEXT,
  last_seq INTEGER NOT NULL,
  published_number INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX advisories_state_current ON advisories (state, current_release_date);

CREATE TABLE advisory_revisions (
  advisory_id TEXT NOT NULL REFERENCES advisories (id),
  seq INTEGER NOT NULL,
  number INTEGER,
  at TEXT NOT NULL,
  author_id TEXT NOT NULL,
  author_name TEXT NOT NULL,
  summary TEXT NOT NULL,
  content TEXT NOT NULL,
  PRIMARY KEY (advisory_id, seq)
);
CREATE UNIQUE INDEX advisory_revisions_number ON advisory_revisions (advisory_id, number) WHERE number IS NOT NULL;
`,
};
