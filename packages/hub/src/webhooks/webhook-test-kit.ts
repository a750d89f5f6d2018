import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from './webhook-settings.js';

/** A self-signed certificate for 127.0.0.1 (and localhost), made by openssl for one test run. */
export interface TestCertificate {
  key: string;
  cert: string;
}

/** Makes a throwaway EC key and a self-signed certificate naming IP 127.0.0.1 and DNS localhost. */
export function selfSignedCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'chainsweep-webhook-cert-'));
  try {
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        '/CN=chainsweep webhook test',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { encoding: 'utf8' },
    );
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Settings for tests: loopback allowed, the test certificate trusted, a fresh key, short waits. */
export function testSettings(
  certificate: TestCertificate,
  extra: Partial<WebhookSettings> = {},
): WebhookSettings {
  return {
    ...DEFAULT_WEBHOOK_SETTINGS,
    allowPrivateAddresses: true,
    ca: [certificate.cert],
    secretKey: randomBytes(32),
    pollMs: 100,
    backoffMs: [100, 100, 100],
    ...extra,
  };
}

/** One request a receiver got. */
export interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

/** What a receiver does with a request: answer with a status, or never answer. */
export type Answer = number | 'hang';

/** An endpoint on 127.0.0.1 recording what it receives. */
export interface Receiver {
  url: string;
  received: Received[];
  /** Resolves once `count` requests have arrived (within `ms`). */
  waitFor(count: number, ms?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** Starts an HTTPS (or, without a certificate, HTTP) receiver answering each request per `answer(n)` (n from 0). */
export async function startReceiver(
  answer: (n: number, request: Received) => Answer,
  certificate?: TestCertificate,
  headers: Record<string, string> = {},
): Promise<Receiver> {
  const received: Received[] = [];
  const waiting: (() => void)[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const one = {
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      const n = received.length;
      received.push(one);
      for (const wake of waiting.splice(0)) wake();
      const what = answer(n, one);
      if (what === 'hang') return;
      res.writeHead(what, { 'content-type': 'text/plain', ...headers }).end('ok');
    });
  };
  const server = certificate ? https.createServer(certificate, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${certificate ? 'https' : 'http'}://127.0.0.1:${port}/hook`,
    received,
    waitFor: async (count, ms = 5000) => {
      const deadline = Date.now() + ms;
      while (received.length < count) {
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`the receiver got ${received.length} of ${count} requests in ${ms} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiting.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
