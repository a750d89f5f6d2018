import { lstatSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from 'chainsweep/cli/io.js';
import { UserError } from 'chainsweep/core/errors.js';
import { loadCsafSigner } from './advisories/csaf/csaf-signer.js';
import { parseDbUrl, parseListen, parseProxies, parsePublicUrl } from './cli-args.js';
import { jsonLineLog } from './http/request-log.js';
import { isMailAddress, smtpUrlProblem } from './mail/mail-settings.js';
import { loadPackSettings } from './packs/pack-settings.js';
import { startHub } from './serve.js';
import { loadWebhookKey } from './webhooks/webhook-settings.js';

const DEFAULT_LISTEN = '127.0.0.1:8080';

/**
 * `chainsweep serve --data DIR [--listen HOST:PORT] [--db postgres://...] [--trust-proxy IP]... [--pack-keys FILE]...
 * [--root-keyring FILE]... [--feed-key FILE] [--public-url URL] [--publisher NAME] [--csaf-key FILE] [--webhook-key FILE]
 * [--webhook-ca FILE]... [--webhook-allow-http] [--webhook-allow-private] [--smtp URL --mail-from ADDRESS
 * [--mail-staff ADDRESS] [--mail-reply ADDRESS --mailbox DIR] [--smtp-no-verify]]`: runs the hub until SIGTERM or
 * SIGINT, then shuts down gracefully. `--public-url` is where readers reach the hub (feeds and CSAF link absolute
 * URLs under it; default: the address it listens on), `--publisher` who publishes its advisories, `--csaf-key` the
 * armored OpenPGP private key that signs its CSAF documents (default: one made once and kept in the store),
 * `--webhook-key` the key that seals webhook secrets (default `DATA/webhook.key`, made on first start),
 * `--webhook-ca` extra CAs for https endpoints, `--webhook-allow-http` and `--webhook-allow-private` (labs only).
 * `--smtp` sends ticket notifications from `--mail-from` (unassigned tickets' to `--mail-staff`); with
 * `--mail-reply` each customer gets a reply address under it, and replies delivered to the Maildir `--mailbox`
 * land on their tickets. Prints `listening on http://HOST:PORT` on stderr once bound.
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
      smtp: { type: 'string' },
      'smtp-no-verify': { type: 'boolean' },
      'mail-from': { type: 'string' },
      'mail-staff': { type: 'string' },
      'mail-reply': { type: 'string' },
      mailbox: { type: 'string' },
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
  const mail = mailSettings(values, io.cwd);
  const hub = await startHub({
    ...(csafSigner ? { csafSigner } : {}),
    webhooks,
    store: { dataDir: values.data, ...(postgresUrl ? { postgresUrl } : {}) },
    ...listen,
    log: jsonLineLog(io.stderr),
    trustedProxies: parseProxies(values['trust-proxy'] ?? []),
    config: {
      ...(publicUrl ? { publicUrl } : {}),
      ...(mail ? { mail } : {}),
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

/** The `--smtp` and `--mail-*` flags as mail settings (undefined without `--smtp`); one line naming a bad flag. */
function mailSettings(values: Record<string, string | boolean | string[] | undefined>, cwd: string) {
  const text = (name: string) => values[name] as string | undefined;
  const smtpUrl = text('smtp');
  const dependent = ['mail-from', 'mail-staff', 'mail-reply', 'mailbox'].filter((n) => text(n) !== undefined);
  if (!smtpUrl) {
    if (dependent.length > 0) throw new UserError('USAGE', `--${dependent[0]} needs --smtp URL`);
    return undefined;
  }
  const problem = smtpUrlProblem(smtpUrl);
  if (problem) throw new UserError('USAGE', `--smtp: the URL ${problem}`);
  const address = (name: string) => {
    const value = text(name);
    if (value !== undefined && !isMailAddress(value))
      throw new UserError(
        'USAGE',
        `--${name} ${JSON.stringify(value.slice(0, 100))}: expected an address like support@hub.example`,
      );
    return value;
  };
  const from = address('mail-from');
  if (!from) throw new UserError('USAGE', '--smtp needs --mail-from ADDRESS');
  const staffAddress = address('mail-staff');
  const replyAddress = address('mail-reply');
  const mailbox = text('mailbox');
  if (replyAddress?.slice(0, replyAddress.indexOf('@')).includes('+'))
    throw new UserError(
      'USAGE',
      '--mail-reply: the address must not hold "+" (each reply address adds +TOKEN)',
    );
  if (Boolean(mailbox) !== Boolean(replyAddress))
    throw new UserError(
      'USAGE',
      mailbox ? '--mailbox needs --mail-reply ADDRESS' : '--mail-reply needs --mailbox DIR',
    );
  const folder = mailbox ? openMaildir(resolvePath(cwd, mailbox)) : undefined;
  return {
    smtpUrl,
    from,
    verifyTls: values['smtp-no-verify'] !== true,
    ...(staffAddress ? { staffAddress } : {}),
    ...(replyAddress && folder ? { replyAddress, mailbox: folder } : {}),
  };
}

/** A Maildir: its `new`, `cur` and `tmp` folders made (0700) when missing, none a link; one line otherwise. */
function openMaildir(folder: string): string {
  for (const sub of ['', 'tmp', 'new', 'cur']) {
    const path = join(folder, sub);
    try {
      mkdirSync(path, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new UserError(
        'USAGE',
        `--mailbox ${path}: cannot be used (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    if (!lstatSync(path).isDirectory())
      throw new UserError('USAGE', `--mailbox ${path}: is a symbolic link or not a folder`);
  }
  return folder;
}
