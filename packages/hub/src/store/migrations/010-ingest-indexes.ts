import type { Migration } from '../migration.js';

/**
 * Cheaper report ingest. Each report rewrites a host's app, file and address rows, and every index on them is one
 * more B-tree entry per row at a random place: the name indexes of `host_apps` and the digest indexes of
 * `host_files` served no query (the per-host reads go by `host_id`, the retro-hunt reads its batch of hosts by
 * `host_id` too), so they go. The address index leads with the address, so the planner can no longer take it for a
 * host's rows (it read every address of the organisation to delete one host's). `apps_digest` lets a report whose
 * apps are those stored leave them as they are.
 */
export const INGEST_INDEXES_MIGRATION: Migration = {
  version: 10,
  name: 'ingest-indexes',
  up: `
DROP INDEX host_apps_org_name;
DROP INDEX host_apps_name;
DROP INDEX host_files_sha256;
DROP INDEX host_files_sha1;
DROP INDEX host_files_md5;
DROP INDEX host_addresses_org_address;
CREATE INDEX host_addresses_address ON host_addresses (address, org_id);
ALTER TABLE hosts ADD COLUMN apps_digest TEXT;
`,
};
