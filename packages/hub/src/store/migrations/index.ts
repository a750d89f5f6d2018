import type { Migration } from '../migration.js';

/** Every migration, in version order; a database is brought to the last one when the hub starts. */
export const MIGRATIONS: readonly Migration[] = [];
