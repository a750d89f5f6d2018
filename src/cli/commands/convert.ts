import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { UserError } from '../../core/errors.js';
import type { Indicator } from '../../core/indicator.js';
import { countByKind, emptyImport, type ImportResult } from '../../packs/interchange/import-result.js';
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
import { readPackContent } from '../../packs/pack-content.js';
import { signPack } from '../../packs/sign-pack.js';
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
  const result = await importFrom(from, resolve(io.cwd, input), values.id, map);
  const counts = countByKind(result);
  io.stdout.write(
    `read ${
      Object.entries(counts)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ') || 'nothing'
    }; rejected ${result.rejected.length}\n`,
  );
  for (const r of result.rejected) logLine(io, `rejected ${r.where}: ${r.reason}`);
  await mkdir(join(out, 'rules'), { recursive: true });
  await writeFile(
    join(out, 'manifest.json'),
    `${JSON.stringify({ id: values.id, title: values.title ?? values.id, references: [] }, null, 2)}\n`,
  );
  await writeFile(
    join(out, 'indicators.json'),
    `${JSON.stringify({ schemaVersion: 1, sources: {}, indicators: dedupe(result.indicators) }, null, 2)}\n`,
  );
  for (const [name, text] of result.rules)
    await writeFile(
      join(out, 'rules', name.endsWith('.yar') || name.endsWith('.yara') ? name : `${name}.yar`),
      text,
    );
  if (values.key) {
    const keyPath = resolve(io.cwd, values.key);
    const manifest = await signPack(out, {
      privateKeyPem: await readFile(keyPath, 'utf8'),
      keySource: keyPath,
    });
    io.stdout.write(`signed ${manifest.id} sequence ${manifest.sequence} in ${out}\n`);
  } else {
    io.stdout.write(
      `wrote unsigned ${out}; use it as --ioc ${join(out, 'indicators.json')}, or sign it with packs sign\n`,
    );
  }
  return 0;
}

async function importFrom(
  from: (typeof FROM)[number],
  input: string,
  prefix: string,
  map: Record<string, string>,
): Promise<ImportResult> {
  const json = async (path: string) => {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as unknown;
    } catch (error) {
      throw new UserError('IOC_INVALID', `${path}: ${(error as Error).message}`);
    }
  };
  switch (from) {
    case 'stix':
      return importStix(await json(input), prefix);
    case 'misp':
      return importMispEvent(await json(input), prefix);
    case 'misp-feed': {
      const manifest = await json(join(input, 'manifest.json'));
      const events = new Map<string, unknown>();
      for (const uuid of Object.keys((manifest as object) ?? {})) {
        const path = join(input, `${uuid}.json`);
        if (existsSync(path)) events.set(uuid, await json(path).catch(() => undefined));
      }
      return importMispFeed({ manifest, event: (uuid) => events.get(uuid) }, prefix);
    }
    case 'csv':
      return importCsv(await readFile(input, 'utf8'), input, prefix, map);
    case 'loki': {
      const result = emptyImport();
      const files =
        existsSync(input) &&
        readdirSync(input, { withFileTypes: true }).length >= 0 &&
        !input.endsWith('.txt')
          ? readdirSync(input)
              .filter((f) => f.endsWith('.txt'))
              .map((f) => join(input, f))
          : [input];
      for (const file of files) {
        const parsed = parseIocList(
          await readFile(file, 'utf8'),
          basename(file),
          iocListKindFromName(basename(file)),
        );
        result.indicators.push(
          ...parsed.indicators.map((i) => ({ ...i, id: `${prefix}.${i.id.slice('local:'.length)}` })),
        );
        for (const d of parsed.diagnostics)
          result.rejected.push({ where: `${file}:${d.line}`, reason: d.message });
      }
      return result;
    }
    case 'yara': {
      const result = emptyImport();
      const files = extname(input)
        ? [input]
        : readdirSync(input, { recursive: true, encoding: 'utf8' })
            .filter((f) => /\.ya?ra?$/i.test(f))
            .map((f) => join(input, f));
      for (const file of files) result.rules.set(basename(file), await readFile(file, 'utf8'));
      return result;
    }
  }
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
    await mkdir(out, { recursive: true });
    for (const [name, text] of Object.entries(exportLoki(data.indicators)))
      await writeFile(join(out, name), text);
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
    await writeFile(out, text);
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
