import { existsSync } from 'node:fs';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { formatDiagnostic } from '../../core/diagnostic.js';
import { UserError } from '../../core/errors.js';
import { parseNetworkValue } from '../../core/network-value.js';
import { displayPath } from '../../core/paths.js';
import { toJsRegex } from '../../core/regex-safety.js';
import { isValidRange } from '../../matchers/versions.js';
import { compileYara } from '../../matchers/yara-engine.js';
import { MAX_ARCHIVE_BYTES, readArchive } from '../../packs/archive.js';
import { packArchive, publishFeed, storedKeyList, updateFromFeed } from '../../packs/feed.js';
import { applyKeyList, KeyListSchema, ROOT_KEYS } from '../../packs/key-list.js';
import { DEFAULT_KEYRING, readKeyringFile } from '../../packs/keyring.js';
import { generateSigningKey, loadPrivateKey, signBytes } from '../../packs/keys.js';
import { BUNDLED_PACKS_DIR, loadIntel } from '../../packs/load-intel.js';
import type { PackManifest } from '../../packs/manifest.js';
import { readPackContent } from '../../packs/pack-content.js';
import { signPack } from '../../packs/sign-pack.js';
import { parseJson, readUserFile, writeUserFile } from '../../packs/user-files.js';
import { verifyPack } from '../../packs/verify-pack.js';
import { parseCommandArgs, parseInteger } from '../args.js';
import { defaultStore, findPack, keyringFrom } from '../intel-options.js';
import { type CliIo, logLine } from '../io.js';
import { convert } from './convert.js';

export const PACKS_HELP = `Usage: chainsweep packs <command> [options]

  keygen --out PREFIX [--name NAME]     new Ed25519 signing key: PREFIX.key (private, mode 0600) and
                                        PREFIX.keyring.json (public; pass it to --keyring)
  sign DIR --key FILE [--sequence N] [--expires-days N]
                                        check the pack's content, write manifest.json and sign it
  verify DIR... [--keyring FILE]        verify signatures and digests, compile the rules
  list [--pack DIR] [--keyring FILE]    the packs a scan would load (bundled, installed, given)
  build SRC --key FILE --out DIR [--sequence N] [--expires-days N]
                                        check a pack source and write it signed to DIR
  publish DIR... --key FILE --out FEED --base-url URL [--name NAME] [--sequence N] [--expires-days N]
                                        write a static feed: archives, signed latest.json, feed.atom
  update --feed URL... [--allow-stale] [--root-keyring FILE]
                                        install what the feeds offer that is newer, after checking it
                                        (--root-keyring pins your own root keys for your own key lists)
  import FILE [--allow-stale] [--keyring FILE]
                                        install a pack archive (air-gapped hosts); a --keyring key is
                                        remembered for that pack only
  export ID|DIR --out FILE              write a pack as one archive file
  keys sign KEYS_JSON --root-key FILE   sign a key list (keys.json) with a root key
  convert INPUT --from stix|misp|misp-feed|loki|csv|yara --id ID --title TITLE --out DIR [--key FILE] [--map F=COL]
          [--force]                     turn other intel into a pack (signed with --key); lists every rejected entry;
                                        --force replaces an existing pack folder
  convert PACK --to stix|misp|loki|domains|rpz|csv --out PATH
                                        write a pack for other tools (STIX 2.1, MISP event, Loki lists, DNS RPZ)

Installed packs live in $CHAINSWEEP_HOME/packs (default: the system or user state folder).
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
    case 'build':
      return build(rest, io);
    case 'publish':
      return publish(rest, io);
    case 'update':
      return update(rest, io);
    case 'import':
      return importArchive(rest, io);
    case 'export':
      return exportArchive(rest, io);
    case 'keys':
      return signKeyList(rest, io);
    case 'convert':
      return convert(rest, io);
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
  writeUserFile(privatePath, privateKeyPem, 'packs keygen:', { mode: 0o600, exclusive: true });
  writeUserFile(publicPath, `${JSON.stringify({ keys: [key] }, null, 2)}\n`, 'packs keygen:', {
    exclusive: true,
  });
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
  const privateKeyPem = readUserFile(keyPath, 'packs sign: key', 1024 * 1024).toString('utf8');
  const manifest = await signPack(dir, {
    privateKeyPem,
    keySource: keyPath,
    ...(values.sequence
      ? { sequence: parseInteger('--sequence', values.sequence, 0, Number.MAX_SAFE_INTEGER) }
      : {}),
    ...(values['expires-days']
      ? { expiresInDays: parseInteger('--expires-days', values['expires-days'], 1, 3650) }
      : {}),
    validate: validateContent(),
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
    store: defaultStore(),
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
      `${displayPath(pack.id)} #${pack.sequence}  ${displayPath(pack.title)}\n  ${counts}; expires ${pack.expiresAt}${pack.stale ? ' (EXPIRED)' : ''}\n`,
    );
  }
  return 0;
}

/** Checks a pack's content as signing does: indicators, apps (with valid version ranges) and rules. */
function validateContent() {
  return (m: PackManifest, files: ReadonlyMap<string, Buffer>) => {
    const content = readPackContent({ manifest: m, keyId: '', digest: '', stale: false, files });
    for (const indicator of content.indicators) {
      // Regexes are refused when invalid or super-linear (the matcher would never run them).
      const regexes = [
        ...(indicator.syntax === 'regex' ? [indicator.value] : []),
        ...(indicator.falsePositive ? [indicator.falsePositive] : []),
      ];
      for (const pattern of indicator.kind === 'filename' ? regexes : []) {
        const regex = toJsRegex(pattern);
        if (regex instanceof Error)
          throw new UserError('PACK_INVALID', `packs: ${indicator.id}: ${regex.message}`);
      }
      if (
        ['domain', 'url', 'ip'].includes(indicator.kind) &&
        parseNetworkValue(indicator.value)?.value !== indicator.value
      ) {
        throw new UserError(
          'PACK_INVALID',
          `packs: ${indicator.id}: ${JSON.stringify(indicator.value)} is not a normalised ${indicator.kind} (expected ${JSON.stringify(parseNetworkValue(indicator.value)?.value ?? 'a valid value')})`,
        );
      }
    }
    for (const app of content.apps) {
      for (const range of [...app.affected, ...(app.fixed ?? [])]) {
        if (!isValidRange(range))
          throw new UserError(
            'PACK_INVALID',
            `packs: ${app.id}: version range ${JSON.stringify(range)} is not valid`,
          );
      }
    }
    const compiled = compileYara(content.yara);
    compiled.rules?.dispose();
    const errors = compiled.diagnostics.filter((d) => d.level === 'error');
    if (errors[0]) throw new UserError('YARA_COMPILE', `packs: ${formatDiagnostic(errors[0])}`);
  };
}

async function build(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('packs build', args, {
    key: { type: 'string' },
    out: { type: 'string' },
    sequence: { type: 'string' },
    'expires-days': { type: 'string' },
  });
  const [srcArg] = positionals;
  if (!srcArg || positionals.length > 1 || !values.key || !values.out) {
    throw new UserError('USAGE', 'packs build: give SRC_DIR, --key FILE and --out DIR');
  }
  const src = resolve(io.cwd, srcArg);
  const out = resolve(io.cwd, values.out);
  const manifestAt = (dir: string) => {
    const path = join(dir, 'manifest.json');
    return parseJson(readUserFile(path, 'packs build:'), path) as Record<string, unknown> | null;
  };
  const previous = existsSync(join(out, 'manifest.json')) ? manifestAt(out)?.sequence : undefined;
  const keyPath = resolve(io.cwd, values.key);
  const privateKeyPem = readUserFile(keyPath, 'packs build: key', 1024 * 1024).toString('utf8');
  await mkdir(out, { recursive: true });
  await cp(src, out, {
    recursive: true,
    filter: (from) =>
      !relative(src, from)
        .split(sep)
        .some((p) => p === 'tests' || p.startsWith('.')),
  });
  const draft = manifestAt(out);
  if (!draft || typeof draft !== 'object' || Array.isArray(draft))
    throw new UserError('PACK_INVALID', `${join(src, 'manifest.json')}: not a JSON object`);
  if (typeof previous === 'number' && (typeof draft.sequence !== 'number' || draft.sequence < previous))
    draft.sequence = previous;
  await writeFile(join(out, 'manifest.json'), JSON.stringify(draft));
  const manifest = await signPack(out, {
    privateKeyPem,
    keySource: keyPath,
    ...(values.sequence
      ? { sequence: parseInteger('--sequence', values.sequence, 0, Number.MAX_SAFE_INTEGER) }
      : {}),
    ...(values['expires-days']
      ? { expiresInDays: parseInteger('--expires-days', values['expires-days'], 1, 3650) }
      : {}),
    validate: validateContent(),
  });
  io.stdout.write(
    `built ${manifest.id} sequence ${manifest.sequence} in ${out}: ${manifest.files.length} files, expires ${manifest.expires}\n`,
  );
  return 0;
}

async function publish(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('packs publish', args, {
    key: { type: 'string' },
    out: { type: 'string' },
    'base-url': { type: 'string' },
    name: { type: 'string' },
    sequence: { type: 'string' },
    'expires-days': { type: 'string' },
    keyring: { type: 'string', multiple: true },
  });
  if (positionals.length === 0 || !values.key || !values.out || !values['base-url']) {
    throw new UserError(
      'USAGE',
      'packs publish: give pack folders, --key FILE, --out DIR and --base-url URL',
    );
  }
  const out = resolve(io.cwd, values.out);
  const latest = join(out, 'latest.json');
  const published = existsSync(latest)
    ? (parseJson(readUserFile(latest, 'packs publish:'), latest) as { sequence?: unknown } | null)?.sequence
    : -1;
  const previous = typeof published === 'number' ? published : -1;
  const keyPath = resolve(io.cwd, values.key);
  const index = await publishFeed({
    packDirs: positionals.map((p) => resolve(io.cwd, p)),
    keyring: await keyringFrom(values.keyring?.map((p) => resolve(io.cwd, p))),
    privateKeyPem: readUserFile(keyPath, 'packs publish: key', 1024 * 1024).toString('utf8'),
    keySource: keyPath,
    outDir: out,
    baseUrl: values['base-url'],
    name: values.name ?? 'chainsweep',
    sequence: values.sequence
      ? parseInteger('--sequence', values.sequence, 0, Number.MAX_SAFE_INTEGER)
      : previous + 1,
    expiresInDays: values['expires-days']
      ? parseInteger('--expires-days', values['expires-days'], 1, 365)
      : 7,
  });
  io.stdout.write(
    `published feed ${index.feed} #${index.sequence} to ${out}: ${index.packs.map((p) => `${p.id} #${p.sequence}`).join(', ')}; expires ${index.expires}\n`,
  );
  return 0;
}

async function update(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs('packs update', args, {
    feed: { type: 'string', multiple: true },
    'allow-stale': { type: 'boolean' },
    keyring: { type: 'string', multiple: true },
    'root-keyring': { type: 'string', multiple: true },
    timeout: { type: 'string' },
  });
  const feeds = values.feed ?? (io.env.CHAINSWEEP_FEED ? io.env.CHAINSWEEP_FEED.split(/\s+/) : []);
  if (feeds.length === 0)
    throw new UserError('USAGE', 'packs update: give --feed URL (or set CHAINSWEEP_FEED)');
  const store = defaultStore();
  const keyring = await keyringFrom(values.keyring?.map((p) => resolve(io.cwd, p)));
  const recordTrust = values.keyring
    ? {
        trusted: applyKeyList(DEFAULT_KEYRING, storedKeyList(store, ROOT_KEYS)),
        source: `packs update --keyring ${values.keyring.map((p) => resolve(io.cwd, p)).join(' ')}`,
      }
    : undefined;
  let refused = 0;
  for (const feed of feeds) {
    try {
      const result = await updateFromFeed(feed, {
        store,
        keyring,
        roots: [...ROOT_KEYS, ...(await rootsFrom(values['root-keyring'], io))],
        allowStale: Boolean(values['allow-stale']),
        ...(values.timeout ? { timeoutMs: parseInteger('--timeout', values.timeout, 1, 3600) * 1000 } : {}),
        ...(recordTrust ? { recordTrust } : {}),
      });
      for (const w of result.warnings) logLine(io, w);
      if (result.notModified) io.stdout.write(`${feed}: not modified\n`);
      for (const o of result.outcomes) io.stdout.write(`${o.result.padEnd(10)} ${o.id}: ${o.message}\n`);
      refused += result.outcomes.filter((o) => o.result === 'refused').length;
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      refused++;
      io.stdout.write(`refused    ${feed}: ${error.message}\n`);
    }
  }
  return refused ? 2 : 0;
}

async function importArchive(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('packs import', args, {
    'allow-stale': { type: 'boolean' },
    keyring: { type: 'string', multiple: true },
  });
  if (positionals.length !== 1) throw new UserError('USAGE', 'packs import: give one archive file');
  const file = resolve(io.cwd, positionals[0] as string);
  const bytes = readUserFile(file, 'packs import:', MAX_ARCHIVE_BYTES);
  const store = defaultStore();
  const keyringFiles = values.keyring?.map((p) => resolve(io.cwd, p));
  const keyList = storedKeyList(store, ROOT_KEYS);
  const keyring = applyKeyList(await keyringFrom(keyringFiles), keyList);
  const files = new Map((await readArchive(bytes, file)).map((e) => [e.path, e.bytes]));
  // A key given with --keyring is trusted for the pack it installs, and remembered (with how) for that pack only.
  const pack = await store.install(files, {
    keyring: (id) => store.keyringFor(id, keyring, keyList),
    allowStale: Boolean(values['allow-stale']),
    source: file,
    ...(keyringFiles
      ? {
          recordTrust: {
            trusted: applyKeyList(DEFAULT_KEYRING, keyList),
            source: `packs import ${file} --keyring ${keyringFiles.join(' ')}`,
          },
        }
      : {}),
  });
  if (pack.newlyTrusted)
    logLine(
      io,
      `trusting key ${pack.newlyTrusted.keyId.slice(0, 16)}… (${pack.newlyTrusted.name}) for pack ${pack.manifest.id} from now on, as given by --keyring`,
    );
  io.stdout.write(`installed ${pack.manifest.id} #${pack.manifest.sequence} into ${store.dir}\n`);
  return 0;
}

async function exportArchive(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('packs export', args, {
    out: { type: 'string' },
    keyring: { type: 'string', multiple: true },
  });
  if (positionals.length !== 1 || !values.out)
    throw new UserError('USAGE', 'packs export: give a pack id or folder, and --out FILE');
  const wanted = positionals[0] as string;
  const pack = await findPack(wanted, io, values.keyring);
  const out = resolve(io.cwd, values.out);
  writeUserFile(
    out,
    packArchive(
      pack.dir,
      pack.manifest.files.map((f) => f.path),
    ),
    'packs export:',
  );
  io.stdout.write(`exported ${pack.manifest.id} #${pack.manifest.sequence} to ${out}\n`);
  return 0;
}

async function signKeyList(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('packs keys', args, { 'root-key': { type: 'string' } });
  const [sub, file] = positionals;
  if (sub !== 'sign' || !file || !values['root-key'])
    throw new UserError('USAGE', 'packs keys sign KEYS_JSON --root-key FILE');
  const path = resolve(io.cwd, file);
  const bytes = readUserFile(path, 'packs keys sign:', 1024 * 1024);
  const parsed = KeyListSchema.safeParse(parseJson(bytes, path));
  if (!parsed.success)
    throw new UserError(
      'PACK_INVALID',
      `${path}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
    );
  const keyPath = resolve(io.cwd, values['root-key']);
  const { privateKey, keyId } = loadPrivateKey(
    readUserFile(keyPath, 'packs keys sign: root key', 1024 * 1024).toString('utf8'),
    keyPath,
  );
  writeUserFile(
    `${path}.sig`,
    `${JSON.stringify({ keyId, signature: signBytes(bytes, privateKey) })}\n`,
    'packs keys sign:',
  );
  io.stdout.write(`signed key list version ${parsed.data.version} with root ${keyId.slice(0, 16)}…\n`);
  return 0;
}

/** Extra root keys from `--root-keyring` files (an organisation's own root for its own key lists). */
async function rootsFrom(files: string[] | undefined, io: CliIo) {
  const roots = [];
  for (const file of files ?? []) roots.push(...(await readKeyringFile(resolve(io.cwd, file))));
  return roots;
}
