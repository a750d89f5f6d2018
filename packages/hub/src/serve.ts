import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { createApp } from './app.js';
import { defaultHubConfig } from './config.js';
import type { HubConfig, HubDeps } from './http/hub-env.js';
import type { HubLog } from './http/request-log.js';
import { hubModules } from './modules.js';
import type { Db } from './store/db.js';
import { openStore, type StoreLocation } from './store/open-store.js';

/** How long shutdown waits for in-flight requests before it closes their connections. */
export const SHUTDOWN_DEADLINE_MS = 10_000;

/** A hub listening on a port. */
export interface RunningHub {
  /** `http://HOST:PORT`, with the port actually bound. */
  url: string;
  port: number;
  db: Db;
  /** Stops accepting connections, lets in-flight requests finish (up to the deadline), closes the store. */
  close(deadlineMs?: number): Promise<void>;
}

/** Where to listen and what to serve; the config is resolved once, here, never on a request path. */
export interface HubStart {
  store: StoreLocation;
  host: string;
  port: number;
  log: HubLog;
  config?: Partial<HubConfig>;
  now?: () => Date;
}

/** Opens (and migrates) the store, builds the app with every module, and listens. */
export async function startHub(start: HubStart): Promise<RunningHub> {
  await mkdir(start.store.dataDir, { recursive: true, mode: 0o700 });
  const db = await openStore(start.store);
  const deps: HubDeps = {
    db,
    config: { ...defaultHubConfig(start.store.dataDir), ...start.config },
    now: start.now ?? (() => new Date()),
  };
  const app = createApp(deps, hubModules(deps), { log: start.log });
  const server = createAdaptorServer({ fetch: app.fetch });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(start.port, start.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await db.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const host = start.host.includes(':') ? `[${start.host}]` : start.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    db,
    close: (deadlineMs = SHUTDOWN_DEADLINE_MS) => {
      closing ??= (async () => {
        const http = server as Server;
        const closed = new Promise<void>((resolve) => http.close(() => resolve()));
        // Keep-alive connections go as soon as their in-flight request is answered; the rest at the deadline.
        const idle = setInterval(() => http.closeIdleConnections(), 50);
        const deadline = setTimeout(() => http.closeAllConnections(), deadlineMs);
        http.closeIdleConnections();
        await closed;
        clearInterval(idle);
        clearTimeout(deadline);
        await db.close();
      })();
      return closing;
    },
  };
}
