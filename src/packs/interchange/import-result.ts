import { HASH_LENGTHS, type Indicator } from '../../core/indicator.js';
import { parseNetworkValue } from '../../core/network-value.js';

/** What an import read: indicators and rule files, counts by kind, and every entry it could not take, with why. */
export interface ImportResult {
  indicators: Indicator[];
  /** YARA rule files found in the input: name -> source. */
  rules: Map<string, string>;
  rejected: { where: string; reason: string }[];
}

export function emptyImport(): ImportResult {
  return { indicators: [], rules: new Map(), rejected: [] };
}

/**
 * Adds a rule file under a safe relative name (`/`-separated, `.yar` or `.yara`) not taken yet: a second `x.yar`
 * becomes `x-2.yar`, so two inputs never overwrite each other.
 */
export function addRule(result: ImportResult, name: string, text: string): string {
  const parts = name
    .split(/[\\/]+/)
    .map((part) => part.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_'))
    .filter((part) => part !== '');
  const joined = parts.join('/') || 'rule';
  const file = /\.yara?$/i.test(joined) ? joined : `${joined}.yar`;
  const stem = file.replace(/\.yara?$/i, '');
  const extension = file.slice(stem.length);
  let unique = file;
  for (let n = 2; result.rules.has(unique); n++) unique = `${stem}-${n}${extension}`;
  result.rules.set(unique, text);
  return unique;
}

/** Indicator counts by kind (and rule files), for the import summary. */
export function countByKind(result: ImportResult): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const i of result.indicators) counts[i.kind] = (counts[i.kind] ?? 0) + 1;
  if (result.rules.size) counts['yara-files'] = result.rules.size;
  return counts;
}

/** A stable indicator id from a prefix and a value. */
export function indicatorId(prefix: string, kind: string, value: string): string {
  return `${prefix}.${kind}.${value.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 48)}`;
}

/** The canonical form of an imported value for its kind (lower-case hex, refanged and normalised network values), or undefined when it is not one. */
export function normaliseValue(kind: Indicator['kind'], value: string): string | undefined {
  if (kind === 'sha256' || kind === 'sha1' || kind === 'md5') {
    const v = value.trim().toLowerCase();
    return /^[0-9a-f]+$/.test(v) && v.length === HASH_LENGTHS[kind] ? v : undefined;
  }
  if (kind === 'filename') return value || undefined;
  const parsed = parseNetworkValue(value);
  return parsed?.kind === kind ? parsed.value : undefined;
}
