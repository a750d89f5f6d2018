import type { Hono } from 'hono';
import type { MailSettings } from '../mail/mail-settings.js';
import type { PackSettings } from '../packs/pack-settings.js';
import type { Db } from '../store/db.js';
import type { Principal } from '../tenancy.js';
import type { WebhookSettings } from '../webhooks/webhook-settings.js';

/** Settings of one hub; every field has an embedded default (see `defaultHubConfig`). */
export interface HubConfig {
  /** The data folder (SQLite file, pack feed, keys). */
  dataDir: string;
  /** Largest request body in general, and of one report after gzip is undone. */
  maxBodyBytes: number;
  maxReportBytes: number;
  /** Days without a report after which a host is `stale`, unless its organisation sets its own. */
  staleDays: number;
  /** The hub's address as its readers reach it, no trailing slash: feeds, CSAF and pages link absolute URLs under it. */
  publicUrl: string;
  /** Who publishes the advisories (CSAF `document.publisher`, vendor category); `namespace` is an https or http URL. */
  publisher: { name: string; namespace: string };
  /** Pack trust and the feed key (`serve --pack-keys`, `--root-keyring`, `--feed-key`); absent: bundled keys, no feed. */
  packs?: PackSettings;
  /** How webhooks are called and their secrets sealed (`serve --webhook-*`); absent: a key for this process only. */
  webhooks?: WebhookSettings;
  /** How the support desk sends notifications and reads emailed replies (`serve --smtp`, `--mail-*`); absent: no email. */
  mail?: MailSettings;
}

/** What the app is built from: tests pass their own store and clock. */
export interface HubDeps {
  db: Db;
  config: HubConfig;
  now: () => Date;
}

/** Hono's context variables on every request: the caller once authenticated, and the request's id for logs. */
export type HubEnv = { Variables: { principal: Principal | undefined; requestId: string } };

/** One feature's routes and their OpenAPI 3.1 `paths` entries; `app.ts` mounts every module at `/`. */
export interface RouteModule {
  routes: Hono<HubEnv>;
  /** OpenAPI path items keyed by path in OpenAPI form (`/api/v1/hosts/{id}`). */
  openapi: Record<string, Record<string, unknown>>;
}
