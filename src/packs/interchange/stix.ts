import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Indicator } from '../../core/indicator.js';
import type { Severity } from '../../core/severity.js';
import { addRule, emptyImport, type ImportResult, indicatorId, normaliseValue } from './import-result.js';

/** The shape checked at the boundary: a bundle whose objects are JSON objects (anything else is a reject). */
const BundleSchema = z.object({ type: z.literal('bundle'), objects: z.array(z.unknown()) });
const StixObjectSchema = z.record(z.string(), z.unknown());

/** STIX comparison paths we map, and the indicator kind each becomes. */
const PATHS: Record<string, Indicator['kind']> = {
  "file:hashes.'SHA-256'": 'sha256',
  'file:hashes.sha256': 'sha256',
  "file:hashes.'SHA-1'": 'sha1',
  'file:hashes.sha1': 'sha1',
  "file:hashes.'MD5'": 'md5',
  'file:hashes.md5': 'md5',
  'file:name': 'filename',
  'domain-name:value': 'domain',
  'url:value': 'url',
  'ipv4-addr:value': 'ip',
  'ipv6-addr:value': 'ip',
};

/**
 * Reads the indicators of a STIX 2.1 bundle: patterns made of `=` comparisons of file hashes, file names, domains,
 * URLs and IPv4/IPv6 addresses joined by OR (inside one bracket or across brackets) become indicators; YARA
 * patterns become rule files; any other pattern is reported as unsupported, never dropped silently.
 */
export function importStix(json: unknown, prefix: string): ImportResult {
  const result = emptyImport();
  const bundle = BundleSchema.safeParse(json);
  if (!bundle.success) {
    result.rejected.push({ where: 'bundle', reason: 'not a STIX 2.1 bundle (type "bundle" with objects)' });
    return result;
  }
  for (const [n, entry] of bundle.data.objects.entries()) {
    const parsed = StixObjectSchema.safeParse(entry);
    if (!parsed.success) {
      result.rejected.push({
        where: `objects[${n}]`,
        reason: `not a STIX object (${describeValue(entry)})`,
      });
      continue;
    }
    const object = parsed.data;
    if (object.type !== 'indicator') continue;
    const where = String(object.id ?? object.name ?? 'indicator');
    const pattern = typeof object.pattern === 'string' ? object.pattern : '';
    const title =
      typeof object.name === 'string'
        ? object.name
        : typeof object.description === 'string'
          ? object.description
          : where;
    const severity = severityOf(object);
    const references = externalUrls(object);
    if (object.pattern_type === 'yara') {
      addRule(result, where, pattern);
      continue;
    }
    if (object.pattern_type !== undefined && object.pattern_type !== 'stix') {
      result.rejected.push({
        where,
        reason: `unsupported pattern_type ${JSON.stringify(object.pattern_type)}`,
      });
      continue;
    }
    const exact = exactIndicator(object, prefix, title, severity, references);
    if (exact) {
      result.indicators.push(exact);
      continue;
    }
    const comparisons = parsePattern(pattern);
    if (!comparisons) {
      result.rejected.push({
        where,
        reason: `unsupported pattern ${JSON.stringify(pattern.slice(0, 120))} (only = comparisons joined by OR are read)`,
      });
      continue;
    }
    for (const { path, value } of comparisons) {
      const kind = PATHS[path];
      if (!kind) {
        result.rejected.push({ where, reason: `unsupported object path ${path}` });
        continue;
      }
      const normalised = normaliseValue(kind, value);
      if (!normalised) {
        result.rejected.push({ where, reason: `${kind} value ${JSON.stringify(value)} is not valid` });
        continue;
      }
      result.indicators.push({
        id: indicatorId(prefix, kind, normalised),
        kind,
        value: normalised,
        title,
        severity,
        confidence: confidenceOf(object),
        references,
      });
    }
  }
  return result;
}

/** chainsweep's own exports carry the exact indicator (globs, regexes) beside the portable pattern. */
function exactIndicator(
  object: Record<string, unknown>,
  prefix: string,
  title: string,
  severity: Severity,
  references: string[],
): Indicator | undefined {
  const kind = object.x_chainsweep_kind;
  const value = object.x_chainsweep_value;
  if (
    typeof kind !== 'string' ||
    typeof value !== 'string' ||
    !['sha256', 'sha1', 'md5', 'filename', 'domain', 'url', 'ip'].includes(kind)
  )
    return undefined;
  const syntax = object.x_chainsweep_syntax === 'regex' ? ({ syntax: 'regex' } as const) : {};
  return {
    id:
      typeof object.x_chainsweep_id === 'string' ? object.x_chainsweep_id : indicatorId(prefix, kind, value),
    kind: kind as Indicator['kind'],
    value,
    title,
    severity,
    confidence: confidenceOf(object),
    references,
    ...syntax,
  };
}

/** `[a:b = 'x' OR c:d = 'y'] OR [e:f = 'z']` -> comparisons; undefined when anything else appears. */
export function parsePattern(pattern: string): { path: string; value: string }[] | undefined {
  const out: { path: string; value: string }[] = [];
  let rest = pattern.trim();
  const comparison =
    /^\[?\s*([a-z0-9-]+:[A-Za-z0-9_.'-]+(?:\.'[^']+')?)\s*=\s*'((?:[^'\\]|\\.)*)'\s*(\]?)\s*/;
  for (;;) {
    const m = comparison.exec(rest);
    if (!m) return undefined;
    out.push({ path: m[1] as string, value: (m[2] as string).replace(/\\(.)/g, '$1') });
    rest = rest.slice(m[0].length);
    if (rest === '') return out;
    const or = /^OR\s+/.exec(rest);
    if (!or) return undefined;
    rest = rest.slice(or[0].length);
  }
}

function severityOf(object: Record<string, unknown>): Severity {
  const custom = object.x_chainsweep_severity;
  if (
    custom === 'critical' ||
    custom === 'high' ||
    custom === 'medium' ||
    custom === 'low' ||
    custom === 'info'
  )
    return custom;
  return 'high';
}

function confidenceOf(object: Record<string, unknown>): Indicator['confidence'] {
  const c = Number(object.confidence);
  if (!Number.isFinite(c)) return 'medium';
  return c >= 70 ? 'high' : c >= 30 ? 'medium' : 'low';
}

function externalUrls(object: Record<string, unknown>): string[] {
  const refs = object.external_references;
  return Array.isArray(refs)
    ? refs.flatMap((r) =>
        typeof (r as { url?: unknown } | null)?.url === 'string' ? [(r as { url: string }).url] : [],
      )
    : [];
}

const STIX_PATH: Record<string, string> = {
  sha256: "file:hashes.'SHA-256'",
  sha1: "file:hashes.'SHA-1'",
  md5: 'file:hashes.MD5',
  filename: 'file:name',
  domain: 'domain-name:value',
  url: 'url:value',
};

/** A STIX 2.1 bundle with one indicator per indicator (and per YARA rule file), keeping title, severity, sources. */
export function exportStix(
  pack: { id: string; title: string; indicators: readonly Indicator[]; rules: ReadonlyMap<string, string> },
  now = new Date(),
): object {
  const created = now.toISOString();
  const identity = {
    type: 'identity',
    spec_version: '2.1',
    id: `identity--${randomUUID()}`,
    created,
    modified: created,
    name: `chainsweep pack ${pack.id}`,
    identity_class: 'system',
  };
  const indicatorOf = (name: string, pattern: string, pattern_type: 'stix' | 'yara') => ({
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--${randomUUID()}`,
    created,
    modified: created,
    created_by_ref: identity.id,
    name,
    pattern,
    pattern_type,
    valid_from: created,
  });
  const confidence = { high: 85, medium: 50, low: 15 } as const;
  const indicators = pack.indicators.flatMap((i) => {
    const path =
      i.kind === 'ip' ? (i.value.includes(':') ? 'ipv6-addr:value' : 'ipv4-addr:value') : STIX_PATH[i.kind];
    if (!path) return [];
    const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    // File-name globs and regexes travel as a portable pattern on the base name, plus the exact indicator.
    const pattern =
      i.kind === 'filename' && i.syntax === 'regex'
        ? `[file:name MATCHES ${quote(i.value)}]`
        : i.kind === 'filename'
          ? `[file:name = ${quote(i.value.slice(i.value.lastIndexOf('/') + 1))}]`
          : `[${path} = ${quote(i.value)}]`;
    return [
      {
        ...indicatorOf(i.title, pattern, 'stix'),
        indicator_types: ['malicious-activity'],
        confidence: confidence[i.confidence],
        x_chainsweep_severity: i.severity,
        x_chainsweep_id: i.id,
        x_chainsweep_kind: i.kind,
        x_chainsweep_value: i.value,
        ...(i.syntax === 'regex' ? { x_chainsweep_syntax: 'regex' } : {}),
        ...(i.references.length
          ? { external_references: i.references.map((url) => ({ source_name: 'reference', url })) }
          : {}),
      },
    ];
  });
  const rules = [...pack.rules].map(([name, text]) => indicatorOf(name, text, 'yara'));
  return { type: 'bundle', id: `bundle--${randomUUID()}`, objects: [identity, ...indicators, ...rules] };
}

/** What a rejected entry is, in a few words: never the entry itself, which may be huge or nested without end. */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return `an object without a STIX type and id`;
  return `${typeof value} ${JSON.stringify(String(value).slice(0, 80))}`;
}
