import type { HubConfig } from './http/hub-env.js';

/** Where the hub says it is when `serve --public-url` is not given and before it has bound its port. */
export const DEFAULT_PUBLIC_URL = 'http://127.0.0.1:8080';

/** The hub's settings when nothing overrides them: 16 MiB requests, 64 MiB reports once inflated, 7 stale days. */
export function defaultHubConfig(dataDir: string): HubConfig {
  return {
    dataDir,
    maxBodyBytes: 16 * 1024 * 1024,
    maxReportBytes: 64 * 1024 * 1024,
    staleDays: 7,
    publicUrl: DEFAULT_PUBLIC_URL,
    publisher: { name: 'chainsweep hub', namespace: DEFAULT_PUBLIC_URL },
  };
}
