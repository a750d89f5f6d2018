import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { checkedLookup, resolvePublic } from './addresses.js';
import { DEFAULT_TIMEOUT_MS, type WebhookSettings } from './webhook-settings.js';

/** Bytes of a response body read (and thrown away) before the connection is closed. */
const MAX_RESPONSE_BYTES = 4096;

/** One attempt as the delivery log keeps it: the status code, or why there is none. */
export interface AttemptResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** What one attempt sends. */
export interface WebhookRequest {
  url: string;
  secret: string;
  deliveryId: string;
  event: string;
  body: string;
  /** Unix seconds, signed with the body. */
  timestamp: number;
}

/** The `X-Chainsweep-Signature` value: `sha256=` and the hex HMAC-SHA256, keyed by the secret, of `<timestamp>.<body>`. */
export function signatureOf(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * POSTs one signed delivery with `node:https` (or `node:http` when allowed): the connection goes to an address
 * checked in the same lookup that found it, no proxy, no redirect followed, no connection reuse, everything
 * (connect, TLS, headers) within the timeout, and at most a few KB of the answer read. Never throws.
 */
export async function postWebhook(
  request: WebhookRequest,
  settings: WebhookSettings,
): Promise<AttemptResult> {
  const started = Date.now();
  const done = (statusCode: number | null, error: string | null): AttemptResult => ({
    statusCode,
    error,
    durationMs: Date.now() - started,
  });
  let url: URL;
  try {
    url = new URL(request.url);
    if (url.protocol !== 'https:' && !(settings.allowHttp && url.protocol === 'http:'))
      return done(null, `${url.protocol} endpoints are refused`);
    // A literal address never reaches the lookup: it is checked here, and the socket connects to it as is.
    if (isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0)
      await resolvePublic(url.hostname, settings.allowPrivateAddresses);
  } catch (error) {
    return done(null, describe(error));
  }
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const headers = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(request.body)),
    'User-Agent': 'chainsweep-hub',
    'X-Chainsweep-Event': request.event,
    'X-Chainsweep-Delivery': request.deliveryId,
    'X-Chainsweep-Timestamp': String(request.timestamp),
    'X-Chainsweep-Signature': signatureOf(request.secret, request.timestamp, request.body),
  };
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    let answered: number | null = null;
    const finish = (statusCode: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(done(statusCode, error));
    };
    const options: https.RequestOptions = {
      method: 'POST',
      headers,
      agent: false,
      lookup: checkedLookup(settings.allowPrivateAddresses) as unknown as https.RequestOptions['lookup'],
      ...(settings.ca?.length ? { ca: [...rootCertificates, ...settings.ca] } : {}),
    };
    const req = (url.protocol === 'https:' ? https : http).request(url, options, (res) => {
      let read = 0;
      answered = res.statusCode ?? null;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= MAX_RESPONSE_BYTES) finish(answered, null);
      });
      res.on('end', () => finish(answered, null));
      res.on('error', () => finish(answered, null));
    });
    // An endpoint that answered its status line and then stalls is judged by that status.
    const timer = setTimeout(
      () => finish(answered, answered === null ? `timed out after ${timeoutMs} ms` : null),
      timeoutMs,
    );
    req.on('error', (error) => finish(null, describe(error)));
    req.end(request.body);
  });
}

/** One line for the delivery log: the error code and message, never a stack. */
function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return (typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message).slice(
    0,
    300,
  );
}
