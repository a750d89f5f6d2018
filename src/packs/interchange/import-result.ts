import { HASH_LENGTHS, type Indicator } from '../../core/indicator.js';
import { parseNetworkValue } from '../network-value.js';

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
