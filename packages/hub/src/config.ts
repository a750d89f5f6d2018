import type { HubConfig } from './http/hub-env.js';

/** The hub's settings when nothing overrides them: 16 MiB requests, 64 MiB reports once inflated, 7 stale days. */
export function defaultHubConfig(dataDir: string): HubConfig {
  return { dataDir, maxBodyBytes: 16 * 1024 * 1024, maxReportBytes: 64 * 1024 * 1024, staleDays: 7 };
}
