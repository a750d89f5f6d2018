import type { Diagnostic } from '../core/diagnostic.js';
import { HASH_KINDS, HASH_LENGTHS, type HashAlgorithm, type Indicator } from '../core/indicator.js';
import { parseNetworkValue } from '../core/network-value.js';
import { toJsRegex } from '../core/regex-safety.js';
import type { Severity } from '../core/severity.js';

/** Which Loki list a file is: from its name (`hash-iocs.txt`, `filename-iocs.txt`, `c2-iocs.txt`), else per line. */
export type IocListKind = 'hash' | 'filename' | 'c2' | 'auto';

export interface ParsedIocList {
  indicators: Indicator[];
  diagnostics: Diagnostic[];
}

/** Guesses the list kind from a file name the way Loki does. */
export function iocListKindFromName(fileName: string): IocListKind {
  const name = fileName.toLowerCase();
  if (name.includes('filename')) return 'filename';
  if (name.includes('hash')) return 'hash';
  if (name.includes('c2')) return 'c2';
  return 'auto';
}

/**
 * Parses a plain or Loki/signature-base IOC list: `HASH`, `HASH;COMMENT`, `HASH;SCORE;COMMENT`, sha256sum lines,
 * `REGEX;SCORE[;FALSE_POSITIVE_REGEX]`, and one domain, IP, CIDR or URL per line (optionally `;SCORE`).
 * A `# comment` line titles the entries after it. Bad lines become diagnostics; the rest load.
 */
export function parseIocList(text: string, file: string, kind: IocListKind = 'auto'): ParsedIocList {
  const indicators: Indicator[] = [];
  const diagnostics: Diagnostic[] = [];
  const idBase = `local:${file.replace(/^.*[\\/]/, '').replace(/[^A-Za-z0-9._-]/g, '-')}`;
  let group: string | undefined;

  // A plain loop over lines: lists of millions of lines are read in one pass, without a call per line.
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index] as string;
    const line = (index === 0 && raw.startsWith('\uFEFF') ? raw.slice(1) : raw).trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      group = line.replace(/^#+\s*/, '') || group;
      continue;
    }
    const lineNo = index + 1;
    const parsed = parseLine(line, kind, group, file);
    if ('error' in parsed) diagnostics.push({ level: 'error', file, line: lineNo, message: parsed.error });
    else
      indicators.push(
        Object.assign(parsed, { id: `${idBase}:${lineNo}`, confidence: 'medium' as const, references: [] }),
      );
  }
  return { indicators, diagnostics };
}

type LineResult = Omit<Indicator, 'id' | 'confidence' | 'references'> | { error: string };

function parseLine(line: string, kind: IocListKind, group: string | undefined, file: string): LineResult {
  const fields = line.split(';').map((f) => f.trim());
  const first = fields[0] ?? '';
  const words = first.split(/\s+/);
  const algorithm = hashAlgorithmOf(words[0] ?? '');

  if (kind === 'hash' || (kind === 'auto' && algorithm)) {
    const [value, ...rest] = words;
    if (!algorithm)
      return { error: `not an MD5, SHA-1 or SHA-256 hash: ${JSON.stringify(truncate(value ?? ''))}` };
    const [score, description] = scoreAndText(fields.slice(1));
    if (score instanceof Error) return { error: score.message };
    const name = rest.join(' ').replace(/^\*/, '') || undefined;
    return {
      kind: algorithm,
      value: (value ?? '').toLowerCase(),
      title: description || name || group || `hash listed in ${file}`,
      severity: severityFromScore(score, 'high'),
      ...(name ? { fileName: name } : {}),
    };
  }

  if (
    kind === 'filename' ||
    (kind === 'auto' && fields.length >= 2 && looksLikeRegex(first) && !parseNetworkValue(first))
  ) {
    const [pattern, scoreText, falsePositive] = fields;
    const regex = toJsRegex(pattern ?? '');
    if (regex instanceof Error) return { error: regex.message };
    const score = parseScore(scoreText);
    if (score instanceof Error) return { error: score.message };
    if (falsePositive) {
      const fp = toJsRegex(falsePositive);
      if (fp instanceof Error) return { error: `false-positive ${fp.message}` };
    }
    return {
      kind: 'filename',
      syntax: 'regex',
      value: pattern ?? '',
      title: group || `file name pattern listed in ${file}`,
      severity: severityFromScore(score, 'medium'),
      ...(falsePositive ? { falsePositive } : {}),
    };
  }

  const network = parseNetworkValue(first);
  if (!network) {
    return { error: `not a hash, file name pattern, domain, IP or URL: ${JSON.stringify(truncate(first))}` };
  }
  const score = parseScore(fields[1]);
  if (score instanceof Error) return { error: score.message };
  return {
    kind: network.kind,
    value: network.value,
    title: group || `C2 listed in ${file}`,
    severity: severityFromScore(score, 'high'),
  };
}

function hashAlgorithmOf(value: string): HashAlgorithm | undefined {
  if (!/^[0-9a-fA-F]+$/.test(value)) return undefined;
  return HASH_KINDS.find((k) => HASH_LENGTHS[k] === value.length);
}

function looksLikeRegex(value: string): boolean {
  return /[\\^$*+?()[\]{}|/]/.test(value);
}

function scoreAndText(fields: string[]): [number | undefined | Error, string] {
  if (fields.length >= 2 && /^\d+$/.test(fields[0] ?? ''))
    return [parseScore(fields[0]), fields.slice(1).join(';')];
  return [undefined, fields.join(';')];
}

function parseScore(text: string | undefined): number | undefined | Error {
  if (text === undefined || text === '') return undefined;
  if (!/^-?\d+$/.test(text))
    return new Error(`score must be a whole number, got ${JSON.stringify(truncate(text))}`);
  return Number(text);
}

/** Loki scores to severities: 100+ critical, 75+ high, 50+ medium, 25+ low, below that info. */
export function severityFromScore(score: number | undefined | Error, fallback: Severity): Severity {
  if (typeof score !== 'number') return fallback;
  if (score >= 100) return 'critical';
  if (score >= 75) return 'high';
  if (score >= 50) return 'medium';
  if (score >= 25) return 'low';
  return 'info';
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
