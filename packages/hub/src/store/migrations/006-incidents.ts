import type { Migration } from '../migration.js';

/**
 * Incidents the support desk is organised by: each has its forum thread and its free-ticket offer (tickets per
 * organisation, and what happens when they are used up), and may name the advisory it is about.
 */
export const INCIDENTS_MIGRATION: Migration = {
  version: 6,
  name: 'incidents',
  up: `
CREATE TABLE incidents (
  id TEXT PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  advisory_tracking_id TEXT,
  free_tickets INTEGER NOT NULL CHECK (free_tickets >= 0),
  when_used_up TEXT NOT NULL CHECK (when_used_up IN ('refuse', 'paid')),
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
`,
};
