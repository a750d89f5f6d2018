import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { formatDiagnostic } from '../../core/diagnostic.js';
import { UserError } from '../../core/errors.js';
import { compileYara } from '../../matchers/yara-engine.js';
import { generateSigningKey } from '../../packs/keys.js';
import { BUNDLED_PACKS_DIR, loadIntel } from '../../packs/load-intel.js';
import { readPackContent } from '../../packs/pack-content.js';
import { signPack } from '../../packs/sign-pack.js';
import { verifyPack } from '../../packs/verify-pack.js';
import { parseCommandArgs, parseInteger } from '../args.js';
import { type CliIo, logLine } from '../io.js';
import { keyringFrom } from '../keyring-option.js';

export const PACKS_HELP = `Usage: chainsweep packs <command> [options]

  keygen --out PREFIX [--name NAME]     new Ed25519 signing key: PREFIX.key (private, mode 0600) and
                                        PREFIX.keyring.json (public; pass it to --keyring)
  sign DIR --key FILE [--sequence N] [--expires-days N]
                                        check the pack's content, write manifest.json and sign it
  verify DIR... [--keyring FILE]        verify signatures and digests, compile the rules
  list [--pack DIR] [--keyring FILE]    the packs a scan would load
`;

/** `chainsweep packs ...`. */
export async function runPacks(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'keygen':
      return keygen(rest, io);
    case 'sign':
      return sign(rest, io);
    case 'verify':
      return verify(rest, io);
    case 'list':
      return list(rest, io);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout.write(PACKS_HELP);
      return sub === undefined ? 2 : 0;
    default:
      throw new UserError(
        'USAGE',
        `packs: unknown command ${JSON.stringify(sub)} (see chainsweep packs --help)`,
      );
  }
}

async function keygen(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs('packs keygen', args, {
    out: { type: 'string' },
    name: { type: 'string' },
  });
  if (!values.out) throw new UserError('USAGE', 'packs keygen: --out PREFIX is required');
  const prefix = resolve(io.cwd, values.out);
  const privatePath = `${prefix}.key`;
  const publicPath = `${prefix}.keyring.json`;
  for (const path of [privatePath, publicPath]) {
    if (existsSync(path))
      throw new UserError('USAGE', `packs keygen: ${path} exists; refusing to overwrite a key`);
  }
  const { privateKeyPem, key } = generateSigningKey(values.name ?? 'pack signing key');
  await writeFile(privatePath, privateKeyPem, { mode: 0o600, flag: 'wx' });
  await writeFile(publicPath, `${JSON.stringify({ keys: [key] }, null, 2)}\n`, { flag: 'wx' });
  io.stdout.write(
    `key id ${key.keyId}\nprivate key ${privatePath} (keep it offline)\npublic keyring ${publicPath}\n`,
  );
  return 0;
}

async function sign(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('packs sign', args, {
    key: { type: 'string' },
    sequence: { type: 'string' },
    'expires-days': { type: 'string' },
  });
  const [dirArg] = positionals;
  if (!dirArg || positionals.length > 1)
    throw new UserError('USAGE', 'packs sign: give exactly one pack folder');
  if (!values.key) throw new UserError('USAGE', 'packs sign: --key FILE is required');
  const dir = resolve(io.cwd, dirArg);
  const keyPath = resolve(io.cwd, values.key);
  const privateKeyPem = await readFile(keyPath, 'utf8').catch(() => {
    throw new UserError('KEY_INVALID', `packs sign: cannot read key ${keyPath}`);
  });
  const manifest = await signPack(dir, {
    privateKeyPem,
    keySource: keyPath,
    ...(values.sequence
      ? { sequence: parseInteger('--sequence', values.sequence, 0, Number.MAX_SAFE_INTEGER) }
      : {}),
    ...(values['expires-days']
      ? { expiresInDays: parseInteger('--expires-days', values['expires-days'], 1, 3650) }
      : {}),
    validate: (m, files) => {
      const content = readPackContent({ dir, manifest: m, keyId: '', digest: '', stale: false, files });
      const compiled = compileYara(content.yara);
      const errors = compiled.diagnostics.filter((d) => d.level === 'error');
      if (errors[0]) throw new UserError('YARA_COMPILE', `packs sign: ${formatDiagnostic(errors[0])}`);
    },
  });
  io.stdout.write(
    `signed ${manifest.id} sequence ${manifest.sequence}: ${manifest.files.length} files, expires ${manifest.expires}\n`,
  );
  return 0;
}

async function verify(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('packs verify', args, {
    keyring: { type: 'string', multiple: true },
    'require-fresh': { type: 'boolean' },
  });
  if (positionals.length === 0) throw new UserError('USAGE', 'packs verify: give one or more pack folders');
  const keyring = await keyringFrom(values.keyring?.map((p) => resolve(io.cwd, p)));
  let failed = 0;
  for (const arg of positionals) {
    const dir = resolve(io.cwd, arg);
    try {
      const pack = await verifyPack(dir, { keyring, requireFresh: Boolean(values['require-fresh']) });
      const content = readPackContent(pack);
      const compiled = compileYara(content.yara);
      compiled.rules?.dispose();
      for (const d of compiled.diagnostics) logLine(io, formatDiagnostic(d));
      const errors = compiled.diagnostics.filter((d) => d.level === 'error').length;
      if (errors) failed++;
      const m = pack.manifest;
      io.stdout.write(
        `${errors ? 'FAIL' : 'ok  '} ${m.id} #${m.sequence} signed by ${pack.keyId.slice(0, 16)}…, ${m.files.length} files${pack.stale ? `, EXPIRED ${m.expires}` : ''}${errors ? `, ${errors} rule files do not compile` : ''}\n`,
      );
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      failed++;
      io.stdout.write(`FAIL ${error.message}\n`);
    }
  }
  return failed ? 2 : 0;
}

async function list(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs('packs list', args, {
    pack: { type: 'string', multiple: true },
    keyring: { type: 'string', multiple: true },
    'no-bundled': { type: 'boolean' },
  });
  const { intel, diagnostics } = await loadIntel({
    keyring: await keyringFrom(values.keyring?.map((p) => resolve(io.cwd, p))),
    bundled: !values['no-bundled'],
    packDirs: (values.pack ?? []).map((p) => resolve(io.cwd, p)),
    iocFiles: [],
    yaraPaths: [],
    requireFresh: false,
  });
  for (const d of diagnostics) logLine(io, formatDiagnostic(d));
  if (intel.packs.length === 0) io.stdout.write(`no packs (bundled folder: ${BUNDLED_PACKS_DIR})\n`);
  for (const pack of intel.packs) {
    const counts = Object.entries(pack.counts)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
    io.stdout.write(
      `${pack.id} #${pack.sequence}  ${pack.title}\n  ${counts}; expires ${pack.expiresAt}${pack.stale ? ' (EXPIRED)' : ''}\n`,
    );
  }
  return 0;
}
