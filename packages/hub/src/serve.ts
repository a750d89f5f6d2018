import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { getRequestListener, RequestError } from '@hono/node-server';
import type { Hono } from 'hono';
import { type CsafSigner, loadCsafSigner } from './advisories/csaf/csaf-signer.js';
import { createApp } from './app.js';
import { defaultHubConfig } from './config.js';
import { proxiedClient } from './http/client-view.js';
import type { HubConfig, HubDeps, HubEnv } from './http/hub-env.js';
import type { HubLog } from './http/request-log.js';
import { SECURITY_HEADERS } from './http/security-headers.js';
import { startMailDelivery } from './mail/mail-delivery.js';
import { startMailboxReader } from './mail/mailbox.js';
import { hubModules } from './modules.js';
import { openDataFolder } from './store/data-folder.js';
import type { Db } from './store/db.js';
import { openStore, type StoreLocation } from './store/open-store.js';
import { ticketNotifications } from './support/ticket-notifications.js';
import { startWebhookDelivery } from './webhooks/delivery-loop.js';
import {
  DEFAULT_WEBHOOK_SETTINGS,
  loadWebhookKey,
  type WebhookSettings,
} from './webhooks/webhook-settings.js';

/** The key that seals webhook secrets, in the data folder unless `serve --webhook-key` names another file. */
const WEBHOOK_KEY_FILE = 'webhook.key';

/** How long shutdown waits for in-flight requests before it closes their connections. */
export const SHUTDOWN_DEADLINE_MS = 10_000;

/** An app listening on a port. */
export interface Listening {
  /** `http://HOST:PORT`, with the port actually bound. */
  url: string;
  port: number;
  /** Stops accepting connections and lets in-flight requests finish, up to the deadline. */
  close(deadlineMs?: number): Promise<void>;
}

/** Serves an app over HTTP on `host:port` (port 0 picks a free one). */
export async function listenApp(app: Hono<HubEnv>, host: string, port: number): Promise<Listening> {
  const server = createServer(getRequestListener(app.fetch, { errorHandler: unreadableRequest }));
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    close: (deadlineMs = SHUTDOWN_DEADLINE_MS) => {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Keep-alive connections go as soon as their in-flight request is answered; the rest at the deadline.
        const idle = setInterval(() => server.closeIdleConnections(), 50);
        const deadline = setTimeout(() => server.closeAllConnections(), deadlineMs);
        server.closeIdleConnections();
        await closed;
        clearInterval(idle);
        clearTimeout(deadline);
      })();
      return closing;
    },
  };
}

/**
 * The answer to a request the adapter cannot turn into a web Request (a backslash in the path, a bad Host): 400
 * with the security headers and a JSON error, as the app answers; anything else 500 without its details.
 */
function unreadableRequest(error: unknown): Response {
  const [status, code, message] =
    error instanceof RequestError
      ? [400, 'BAD_REQUEST', 'malformed request: the path or Host header cannot be read']
      : [500, 'INTERNAL', 'internal error'];
  return new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { ...SECURITY_HEADERS, 'Content-Type': 'application/json' },
  });
}

/**
 * Answers a request Node's parser refused before the app saw it as the app would: headers too large get 431,
 * a request too slow 408, anything else 400, each with the security headers and a JSON error, and the connection closes.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset peer, or a response already under way on this connection: nothing can be written cleanly.
  const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (error.code === 'ECONNRESET' || !socket.writable || answering) return void socket.destroy();
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [
          '431 Request Header Fields Too Large',
          'HEADERS_TOO_LARGE',
          'the request line or headers are too large',
        ]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['408 Request Timeout', 'TIMEOUT', 'the request took too long to arrive']
        : ['400 Bad Request', 'BAD_REQUEST', 'malformed HTTP request'];
  const body = JSON.stringify({ error: { code, message } });
  const headers = {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
  };
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(`HTTP/1.1 ${status}\r\n${head.join('')}\r\n${body}`);
}

/** A hub listening on a port, with its store. */
export interface RunningHub extends Listening {
  db: Db;
  /** Stops listening as `Listening.close` does, then closes the store. */
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
  /** Addresses of reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed. */
  trustedProxies?: readonly string[];
  /** The CSAF signing key from `--csaf-key`; without it the key kept in the store (made on first start). */
  csafSigner?: CsafSigner;
  /** How webhooks are called; without `secretKey` the key in the data folder (`webhook.key`, made on first start). */
  webhooks?: Partial<WebhookSettings>;
}

/** Checks the data folder, opens (and migrates) the store, builds the app with every module, and listens. */
export async function startHub(start: HubStart): Promise<RunningHub> {
  openDataFolder(start.store.dataDir);
  const db = await openStore(start.store);
  const deps: HubDeps = {
    db,
    config: { ...defaultHubConfig(start.store.dataDir), ...start.config },
    now: start.now ?? (() => new Date()),
  };
  let listening: Listening;
  let webhookSettings: WebhookSettings;
  try {
    webhookSettings = {
      ...DEFAULT_WEBHOOK_SETTINGS,
      ...start.webhooks,
      secretKey:
        start.webhooks?.secretKey ??
        loadWebhookKey(join(start.store.dataDir, WEBHOOK_KEY_FILE), { create: true }),
    };
    deps.config.webhooks = webhookSettings;
    const csafSigner =
      start.csafSigner ?? (await loadCsafSigner({ db, userName: deps.config.publisher.name }));
    const client = start.trustedProxies?.length ? { client: proxiedClient(start.trustedProxies) } : {};
    listening = await listenApp(
      createApp(deps, hubModules(deps, { ...client, csafSigner }), { log: start.log }),
      start.host,
      start.port,
    );
  } catch (error) {
    await db.close();
    throw error;
  }
  // Without --public-url the hub is where it bound (a port of 0 is only known now, before any request).
  if (!start.config?.publicUrl) {
    deps.config.publicUrl = listening.url;
    if (!start.config?.publisher?.namespace)
      deps.config.publisher = { ...deps.config.publisher, namespace: listening.url };
  }
  const webhooks = startWebhookDelivery(deps, webhookSettings, start.log);
  const mail = startMail(deps, start.log);
  let closing: Promise<void> | undefined;
  return {
    ...listening,
    db,
    close: (deadlineMs) => {
      closing ??= listening
        .close(deadlineMs)
        .then(() => webhooks.stop())
        .then(() => mail.stop())
        .then(() => db.close());
      return closing;
    },
  };
}

/** The mail outbox's delivery and the mailbox of emailed replies, when `config.mail` sets them up. */
function startMail(deps: HubDeps, log: HubLog): { stop(): Promise<void> } {
  const settings = deps.config.mail;
  if (!settings) return { stop: async () => {} };
  const sender = () => ({ name: deps.config.publisher.name, address: settings.from });
  const delivery = startMailDelivery(deps.db, settings, sender, log, deps.now);
  const { mailbox, replyAddress } = settings;
  const reader =
    mailbox && replyAddress
      ? startMailboxReader(
          deps.db,
          { mailbox, replyAddress, ...settings },
          log,
          deps.now,
          ticketNotifications(deps),
        )
      : undefined;
  return {
    stop: async () => {
      await reader?.stop();
      await delivery.stop();
    },
  };
}
