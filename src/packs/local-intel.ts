import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Diagnostic } from '../core/diagnostic.js';
import { errorMessage, UserError } from '../core/errors.js';
import type { Indicator } from '../core/indicator.js';
import {
  appendAll,
  countIntel,
  type IntelSet,
  type PackedIndicator,
  type YaraSource,
} from '../core/intel.js';
import { iocListKindFromName, parseIocList } from './ioc-list.js';
import { IndicatorFileSchema } from './pack-content.js';

/** The pack id given to the user's own IOC lists and rules: local, unsigned. */
export const LOCAL_PACK_ID = 'local';
const YARA_EXTENSIONS = new Set(['.yar', '.yara']);

/** Loads `--ioc` lists and `--yara` files or folders; per-line and per-file problems become diagnostics. */
export async function loadLocalIntel(
  iocFiles: readonly string[],
  yaraPaths: readonly string[],
): Promise<{ intel: IntelSet; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = [];
  const indicators: PackedIndicator[] = [];
  const files: string[] = [];

  for (const file of iocFiles) {
    const text = await readInput(file, 'IOC list');
    const parsed = text.trimStart().startsWith('{')
      ? parseIndicatorsJson(text, file)
      : parseIocList(text, file, iocListKindFromName(basename(file)));
    appendAll(diagnostics, parsed.diagnostics);
    for (const indicator of parsed.indicators)
      indicators.push(Object.assign(indicator, { packId: LOCAL_PACK_ID }));
    files.push(resolve(file));
  }

  const yara: YaraSource[] = [];
  for (const path of yaraPaths) {
    for (const file of await yaraFilesUnder(path)) {
      yara.push({
        packId: LOCAL_PACK_ID,
        file,
        namespace: `local/${file}`,
        text: await readInput(file, 'YARA file'),
        includeDir: dirname(resolve(file)),
      });
      files.push(resolve(file));
    }
  }

  if (files.length === 0) return { intel: { packs: [], indicators, apps: [], yara }, diagnostics };
  return {
    intel: {
      packs: [
        {
          id: LOCAL_PACK_ID,
          title: 'local, unsigned',
          signed: false,
          files,
          counts: countIntel({ indicators, apps: [], yara }),
        },
      ],
      indicators,
      apps: [],
      yara,
    },
    diagnostics,
  };
}

async function readInput(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UserError('IOC_INVALID', `${what} ${file}: ${describeFsError(error)}`);
  }
}

/** A rule file given by name is taken whatever its extension; folders are searched for .yar and .yara files. */
async function yaraFilesUnder(path: string): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    throw new UserError('IOC_INVALID', `YARA path ${path}: ${describeFsError(error)}`);
  }
  if (!info.isDirectory()) return [path];
  const found: string[] = [];
  const pending = [path];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (entry.isFile() && YARA_EXTENSIONS.has(extname(entry.name).toLowerCase())) found.push(full);
    }
  }
  return found.sort();
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return errorMessage(error);
}

/** An `indicators.json` in chainsweep's own format (what `packs convert` writes), taken as a local list. */
function parseIndicatorsJson(
  text: string,
  file: string,
): { indicators: Indicator[]; diagnostics: Diagnostic[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { indicators: [], diagnostics: [{ level: 'error', file, message: errorMessage(error) }] };
  }
  const parsed = IndicatorFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      indicators: [],
      diagnostics: [{ level: 'error', file, message: `${issue?.path.join('.')}: ${issue?.message}` }],
    };
  }
  return { indicators: parsed.data.indicators, diagnostics: [] };
}
