import { randomBytes } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { UserError } from 'chainsweep/core/errors.js';

/** How the hub calls webhook endpoints (wired by `serve`). */
export interface WebhookSettings {
  /** The key that seals signing secrets in the store (`loadWebhookKey`); the same in every hub process. */
  secretKey: Buffer;
  /** Whether endpoints may be on loopback, private, link-local and other non-public addresses (tests, labs). */
  allowPrivateAddresses: boolean;
  /** Whether `http:` endpoints are accepted besides `https:`. */
  allowHttp: boolean;
  /** Extra CA certificates (PEM) trusted for https endpoints, besides Node's bundled roots. */
  ca?: readonly string[];
  /** Time one attempt may take, connection to last byte of the status line and headers: 10 s by default. */
  timeoutMs?: number;
  /** Waits before the 2nd, 3rd, ... attempt (each with up to 20% jitter); one more attempt than entries. */
  backoffMs?: readonly number[];
  /** Attempts in flight at once in this process (all endpoints); 16 by default. */
  concurrency?: number;
  /** How often the outbox is polled: 1 s by default. */
  pollMs?: number;
}

/** The settings of a hub started without webhook options, less its key: https endpoints on public addresses only. */
export const DEFAULT_WEBHOOK_SETTINGS: Omit<WebhookSettings, 'secretKey'> = {
  allowPrivateAddresses: false,
  allowHttp: false,
};

/**
 * The settings of a hub built without any (tests, `app.request`): the defaults with a sealing key made for this
 * process, so secrets it seals open nowhere else. `serve` always loads a key file.
 */
export function processWebhookSettings(): WebhookSettings {
  processKey ??= randomBytes(KEY_BYTES);
  return { ...DEFAULT_WEBHOOK_SETTINGS, secretKey: processKey };
}
let processKey: Buffer | undefined;

/** Per-attempt time limit when the settings give none. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The waits between attempts when the settings give none: 10 s, 30 s, 2 min, 10 min, 30 min, 1 h, then 3 h six
 * times: 13 attempts over 20 to 24 hours (with the jitter), after which the delivery is `failed`.
 */
export const DEFAULT_BACKOFF_MS: readonly number[] = [
  10_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 10_800_000, 10_800_000, 10_800_000,
  10_800_000, 10_800_000,
];

/** Attempts in flight in one process when the settings give no number. */
export const DEFAULT_CONCURRENCY = 16;

/** Bytes of the key that seals webhook signing secrets (AES-256). */
const KEY_BYTES = 32;

/**
 * The key that seals webhook signing secrets in the store, from `file` (the base64 of 32 random bytes). With
 * `create`, a missing file is created (mode 0600, never through a link) with a new key. Every hub process on one
 * PostgreSQL database must read the same key; a hub with another key cannot sign for existing webhooks.
 */
export function loadWebhookKey(file: string, options: { create?: boolean } = {}): Buffer {
  if (options.create) {
    try {
      const fd = openSync(
        file,
        constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW,
        0o600,
      );
      try {
        writeSync(fd, `${randomBytes(KEY_BYTES).toString('base64')}\n`);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw keyError(file, error);
    }
  }
  let text: string;
  try {
    const stat = lstatSync(file);
    if (!stat.isFile()) throw new UserError('KEY_INVALID', `webhook key ${file} is not a regular file`);
    if (stat.mode & 0o077)
      throw new UserError(
        'KEY_INVALID',
        `webhook key ${file} must be readable by its owner only (mode 0600)`,
      );
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw keyError(file, error);
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64') !== text.trim())
    throw new UserError('KEY_INVALID', `webhook key ${file} must hold the base64 of ${KEY_BYTES} bytes`);
  return key;
}

function keyError(file: string, error: unknown): UserError {
  return new UserError(
    'KEY_INVALID',
    `webhook key ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
  );
}
