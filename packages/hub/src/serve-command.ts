import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from 'chainsweep/cli/io.js';
import { UserError } from 'chainsweep/core/errors.js';
import { loadCsafSigner } from './advisories/csaf/csaf-signer.js';
import { parseDbUrl, parseListen, parseProxies, parsePublicUrl } from './cli-args.js';
import { jsonLineLog } from './http/request-log.js';
import { loadPackSettings } from './packs/pack-settings.js';
import { startHub } from './serve.js';
import { loadWebhookKey } from './webhooks/webhook-settings.js';

const DEFAULT_LISTEN = '127.0.0.1:8080';

/**
 * `chainsweep serve --data DIR [--listen HOST:PORT] [--db postgres://...] [--trust-proxy IP]... [--pack-keys FILE]...
 * [--root-keyring FILE]... [--feed-key FILE] [--public-url URL] [--publisher NAME] [--csaf-key FILE] [--webhook-key FILE]
 * [--webhook-ca FILE]... [--webhook-allow-http] [--webhook-allow-private]`: runs the hub until SIGTERM or
 * SIGINT, then shuts down gracefully. `--public-url` is where readers reach the hub (feeds and CSAF link absolute
 * URLs under it; default: the address it listens on), `--publisher` who publishes its advisories, `--csaf-key` the
 * armored OpenPGP private key that signs its CSAF documents (default: one made once and kept in the store),
 * `--webhook-key` the key that seals webhook secrets (default `DATA/webhook.key`, made on first start),
 * `--webhook-ca` extra CAs for https endpoints, `--webhook-allow-http` and `--webhook-allow-private` (labs only). Prints `listening on http://HOST:PORT` on stderr once bound.
 */
export async function runServe(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      listen: { type: 'string' },
      db: { type: 'string' },
      'trust-proxy': { type: 'string', multiple: true },
      'pack-keys': { type: 'string', multiple: true },
      'root-keyring': { type: 'string', multiple: true },
      'feed-key': { type: 'string' },
      'public-url': { type: 'string' },
      publisher: { type: 'string' },
      'csaf-key': { type: 'string' },
      'webhook-key': { type: 'string' },
      'webhook-ca': { type: 'string', multiple: true },
      'webhook-allow-http': { type: 'boolean' },
      'webhook-allow-private': { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (!values.data) throw new UserError('USAGE', '--data DIR is required');
  const listen = parseListen(values.listen ?? DEFAULT_LISTEN);
  const postgresUrl = parseDbUrl(values.db);
  const publicUrl = parsePublicUrl(values['public-url']);
  if (values.publisher !== undefined && !/^[^\p{Cc}]{1,200}$/u.test(values.publisher))
    throw new UserError('USAGE', '--publisher NAME: expected 1 to 200 characters, no control characters');
  const csafKey = values['csaf-key'];
  const csafSigner = csafKey ? await loadCsafSigner({ file: resolvePath(io.cwd, csafKey) }) : undefined;
  const webhookKey = values['webhook-key'];
  const webhooks = {
    allowHttp: values['webhook-allow-http'] ?? false,
    allowPrivateAddresses: values['webhook-allow-private'] ?? false,
    ca: await Promise.all((values['webhook-ca'] ?? []).map((f) => readCaFile(resolvePath(io.cwd, f)))),
    ...(webhookKey ? { secretKey: loadWebhookKey(resolvePath(io.cwd, webhookKey)) } : {}),
  };
  const hub = await startHub({
    ...(csafSigner ? { csafSigner } : {}),
    webhooks,
    store: { dataDir: values.data, ...(postgresUrl ? { postgresUrl } : {}) },
    ...listen,
    log: jsonLineLog(io.stderr),
    trustedProxies: parseProxies(values['trust-proxy'] ?? []),
    config: {
      ...(publicUrl ? { publicUrl } : {}),
      // A namespace of '' is the listen address, once bound.
      ...(values.publisher || publicUrl
        ? { publisher: { name: values.publisher ?? 'chainsweep hub', namespace: publicUrl ?? '' } }
        : {}),
      packs: await loadPackSettings({
        packKeys: values['pack-keys']?.map((p) => resolvePath(io.cwd, p)),
        rootKeyrings: values['root-keyring']?.map((p) => resolvePath(io.cwd, p)),
        feedKey: values['feed-key'] === undefined ? undefined : resolvePath(io.cwd, values['feed-key']),
      }),
    },
  });
  io.stderr.write(`listening on ${hub.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  io.stderr.write('chainsweep: serve: shutting down\n');
  await hub.close();
  return 0;
}

/** A `--webhook-ca` file: PEM certificates; one line naming the file when it cannot be read or holds none. */
async function readCaFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UserError(
      'USAGE',
      `--webhook-ca ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new UserError('USAGE', `--webhook-ca ${file}: holds no PEM certificate`);
  return text;
}
