import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../../core/errors.js';
import type { Indicator } from '../../core/indicator.js';
import {
  addRule,
  countByKind,
  emptyImport,
  type ImportResult,
} from '../../packs/interchange/import-result.js';
import { exportMispEvent, importMispEvent, importMispFeed } from '../../packs/interchange/misp.js';
import { exportStix, importStix } from '../../packs/interchange/stix.js';
import {
  exportCsv,
  exportDomainList,
  exportLoki,
  exportRpz,
  importCsv,
} from '../../packs/interchange/text-formats.js';
import { iocListKindFromName, parseIocList } from '../../packs/ioc-list.js';
import { MANIFEST_FILE } from '../../packs/manifest.js';
import { readPackContent } from '../../packs/pack-content.js';
import { signPack } from '../../packs/sign-pack.js';
import { describeFsError, parseJson, readUserFile, writeUserFile } from '../../packs/user-files.js';
import { parseChoice, parseCommandArgs } from '../args.js';
import { findPack } from '../intel-options.js';
import { type CliIo, logLine } from '../io.js';

const FROM = ['stix', 'misp', 'misp-feed', 'loki', 'csv', 'yara'] as const;
const TO = ['stix', 'misp', 'loki', 'domains', 'rpz', 'csv'] as const;

/** `packs convert`: other formats into a pack (`--from`), or a pack into other formats (`--to`). */
export async function convert(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('packs convert', args, {
    from: { type: 'string' },
    to: { type: 'string' },
    id: { type: 'string' },
    title: { type: 'string' },
    out: { type: 'string' },
    key: { type: 'string' },
    map: { type: 'string', multiple: true },
    keyring: { type: 'string', multiple: true },
    force: { type: 'boolean' },
  });
  const [input] = positionals;
  if (!input || positionals.length > 1 || !values.out || Boolean(values.from) === Boolean(values.to)) {
    throw new UserError(
      'USAGE',
      'packs convert INPUT (--from FORMAT --id ID --title TITLE | --to FORMAT) --out PATH',
    );
  }
  const out = resolve(io.cwd, values.out);
  if (values.to) {
    return exportPack(input, parseChoice('--to', values.to, TO), out, io, values.keyring);
  }
  const from = parseChoice('--from', values.from ?? '', FROM);
  if (!values.id || !/^[a-z0-9][a-z0-9.-]*$/.test(values.id))
    throw new UserError('USAGE', 'packs convert: --id must be lowercase letters, digits, dots and dashes');
  const map = Object.fromEntries((values.map ?? []).map((m) => m.split('=', 2) as [string, string]));
  refuseToReplace(out, Boolean(values.force));
  const keyPem = values.key
    ? readUserFile(resolve(io.cwd, values.key), 'packs convert: key', 1024 * 1024).toString('utf8')
    : undefined;
  const result = importFrom(from, resolve(io.cwd, input), values.id, map);
  const counts = countByKind(result);
  io.stdout.write(
    `read ${
      Object.entries(counts)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ') || 'nothing'
    }; rejected ${result.rejected.length}\n`,
  );
  for (const r of result.rejected) logLine(io, `rejected ${r.where}: ${r.reason}`);
  const indicators = dedupe(result.indicators);
  if (indicators.length < result.indicators.length)
    logLine(
      io,
      `merged ${result.indicators.length - indicators.length} indicators listed more than once (same kind and value)`,
    );
  // Written beside the target and moved into place at the end: a failure leaves the old folder as it was.
  const staging = join(dirname(out), `.${basename(out)}.convert-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  try {
    await mkdir(join(staging, 'rules'), { recursive: true });
    await writeFile(
      join(staging, 'manifest.json'),
      `${JSON.stringify({ id: values.id, title: values.title ?? values.id, references: [] }, null, 2)}\n`,
    );
    await writeFile(
      join(staging, 'indicators.json'),
      `${JSON.stringify({ schemaVersion: 1, sources: {}, indicators }, null, 2)}\n`,
    );
    for (const [name, text] of result.rules) {
      await mkdir(dirname(join(staging, 'rules', name)), { recursive: true });
      await writeFile(join(staging, 'rules', name), text);
    }
    const manifest = keyPem
      ? await signPack(staging, { privateKeyPem: keyPem, keySource: resolve(io.cwd, values.key as string) })
      : undefined;
    rmSync(out, { recursive: true, force: true });
    renameSync(staging, out);
    io.stdout.write(
      manifest
        ? `signed ${manifest.id} sequence ${manifest.sequence} in ${out}\n`
        : `wrote unsigned ${out}; use it as --ioc ${join(out, 'indicators.json')}, or sign it with packs sign\n`,
    );
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return 0;
}

/**
 * An existing `out` is replaced only with `--force`, and only when it is a pack folder (it holds a manifest.json)
 * or empty: a folder of anything else is never removed.
 */
function refuseToReplace(out: string, force: boolean): void {
  const info = statSync(out, { throwIfNoEntry: false });
  if (!info) return;
  if (!info.isDirectory())
    throw new UserError(
      'USAGE',
      `packs convert: ${out} exists and is not a folder; give a new folder for --out`,
    );
  const entries = readdirSync(out);
  if (entries.length === 0) return;
  if (!entries.includes(MANIFEST_FILE))
    throw new UserError(
      'USAGE',
      `packs convert: ${out} is a folder that is not a pack (no ${MANIFEST_FILE}); it is never replaced, give a new folder for --out`,
    );
  if (!force)
    throw new UserError(
      'USAGE',
      `packs convert: ${out} already holds a pack; pass --force to replace it (its rules and indicators are removed)`,
    );
}

function importFrom(
  from: (typeof FROM)[number],
  input: string,
  prefix: string,
  map: Record<string, string>,
): ImportResult {
  const read = (path: string) => readUserFile(path, `packs convert: --from ${from} input`).toString('utf8');
  const json = (path: string) => parseJson(read(path), path, 'IOC_INVALID');
  switch (from) {
    case 'stix':
      return importStix(json(input), prefix);
    case 'misp':
      return importMispEvent(json(input), prefix);
    case 'misp-feed': {
      const manifest = json(join(input, 'manifest.json'));
      const events = new Map<string, unknown>();
      for (const uuid of Object.keys((manifest as object | null) ?? {})) {
        const path = join(input, `${uuid}.json`);
        if (!existsSync(path)) continue;
        try {
          events.set(uuid, json(path));
        } catch {
          // Reported by importMispFeed as listed but unreadable.
        }
      }
      return importMispFeed({ manifest, event: (uuid) => events.get(uuid) }, prefix);
    }
    case 'csv':
      return importCsv(read(input), input, prefix, map);
    case 'loki': {
      const result = emptyImport();
      const files = filesOf(input, (name) => /\.txt$/i.test(name), result);
      for (const file of files) {
        const parsed = parseIocList(read(file), basename(file), iocListKindFromName(basename(file)));
        for (const i of parsed.indicators)
          result.indicators.push({ ...i, id: `${prefix}.${i.id.slice('local:'.length)}` });
        for (const d of parsed.diagnostics)
          result.rejected.push({ where: `${file}:${d.line}`, reason: d.message });
      }
      return result;
    }
    case 'yara': {
      const result = emptyImport();
      for (const file of filesOf(input, (name) => /\.yara?$/i.test(name), result))
        addRule(
          result,
          relative(isFolder(input) ? input : dirname(input), file)
            .split(sep)
            .join('/'),
          read(file),
        );
      return result;
    }
  }
}

function isFolder(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/**
 * The input files: a file named is taken whatever its name; a folder is searched recursively for names that
 * `wanted` accepts, and every other file is listed as rejected, never skipped silently.
 */
function filesOf(input: string, wanted: (name: string) => boolean, result: ImportResult): string[] {
  const info = statSync(input, { throwIfNoEntry: false });
  if (!info) throw new UserError('PATH_NOT_FOUND', `packs convert: ${input} does not exist`);
  if (!info.isDirectory()) return [input];
  let names: string[];
  try {
    names = readdirSync(input, { recursive: true, encoding: 'utf8' }).sort();
  } catch (error) {
    throw new UserError('PATH_NOT_FOUND', `packs convert: ${input} ${describeFsError(error)}`);
  }
  const files: string[] = [];
  for (const name of names) {
    const path = join(input, name);
    if (!statSync(path, { throwIfNoEntry: false })?.isFile()) continue;
    if (wanted(basename(name))) files.push(path);
    else result.rejected.push({ where: path, reason: 'not a file of this format (by its name); not read' });
  }
  return files;
}

async function exportPack(
  wanted: string,
  to: (typeof TO)[number],
  out: string,
  io: CliIo,
  keyringFiles: string[] | undefined,
): Promise<number> {
  const pack = await findPack(wanted, io, keyringFiles);
  const content = readPackContent(pack);
  const rules = new Map(content.yara.map((y) => [basename(y.file), y.text]));
  const data = {
    id: pack.manifest.id,
    title: pack.manifest.title,
    indicators: content.indicators as Indicator[],
    rules,
  };
  if (to === 'loki') {
    if (existsSync(out) && !isFolder(out))
      throw new UserError('USAGE', `packs convert --to loki: ${out} is a file; give a folder for the lists`);
    await mkdir(out, { recursive: true });
    for (const [name, text] of Object.entries(exportLoki(data.indicators)))
      writeUserFile(join(out, name), text, 'packs convert:');
  } else {
    const text =
      to === 'stix'
        ? `${JSON.stringify(exportStix(data), null, 2)}\n`
        : to === 'misp'
          ? `${JSON.stringify(exportMispEvent(data), null, 2)}\n`
          : to === 'domains'
            ? exportDomainList(data.indicators)
            : to === 'rpz'
              ? exportRpz(data.indicators, pack.manifest.id)
              : exportCsv(data.indicators);
    writeUserFile(out, text, 'packs convert:');
  }
  io.stdout.write(`wrote ${pack.manifest.id} #${pack.manifest.sequence} as ${to} to ${out}\n`);
  return 0;
}

/** One indicator per kind and value; the first title wins. */
function dedupe(indicators: Indicator[]): Indicator[] {
  const seen = new Map<string, Indicator>();
  for (const i of indicators) if (!seen.has(`${i.kind}:${i.value}`)) seen.set(`${i.kind}:${i.value}`, i);
  const ids = new Map<string, number>();
  return [...seen.values()].map((i) => {
    const n = ids.get(i.id) ?? 0;
    ids.set(i.id, n + 1);
    return n ? { ...i, id: `${i.id}-${n}` } : i;
  });
}
