import type { Migration } from '../migration.js';
import { TENANCY } from './001-tenancy.js';
import { FLEET_MIGRATION } from './002-fleet.js';
import { PACKS_MIGRATION } from './003-packs.js';
import { ADVISORIES_MIGRATION } from './004-advisories.js';
import { WEBHOOKS_MIGRATION } from './005-webhooks.js';
import { INCIDENTS_MIGRATION } from './006-incidents.js';
import { FORUM_MIGRATION } from './007-forum.js';
import { TICKETS_MIGRATION } from './008-tickets.js';
import { MAIL_MIGRATION } from './009-mail.js';
import { INGEST_INDEXES_MIGRATION } from './010-ingest-indexes.js';

/** Every migration, in version order; a database is brought to the last one when the hub starts. */
export const MIGRATIONS: readonly Migration[] = [
  TENANCY,
  FLEET_MIGRATION,
  PACKS_MIGRATION,
  ADVISORIES_MIGRATION,
  WEBHOOKS_MIGRATION,
  INCIDENTS_MIGRATION,
  FORUM_MIGRATION,
  TICKETS_MIGRATION,
  MAIL_MIGRATION,
  INGEST_INDEXES_MIGRATION,
];
