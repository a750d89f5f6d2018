import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Indicator } from '../../core/indicator.js';
import { SEVERITIES, type Severity } from '../../core/severity.js';
import { addRule, emptyImport, type ImportResult, indicatorId, normaliseValue } from './import-result.js';

/** The attribute fields read, checked at the boundary: an attribute of another shape is a reject, never a crash. */
const AttributeSchema = z.looseObject({
  type: z.string().optional(),
  value: z.string().optional(),
  comment: z.string().optional(),
  Tag: z.array(z.looseObject({ name: z.string().optional() })).optional(),
});
type MispAttribute = z.infer<typeof AttributeSchema>;
const EventSchema = z.looseObject({
  info: z.unknown().optional(),
  threat_level_id: z.unknown().optional(),
  Attribute: z.array(z.unknown()).optional(),
  Object: z.array(z.unknown()).optional(),
});
const ObjectSchema = z.looseObject({ Attribute: z.array(z.unknown()).nullable().optional() });

function issueOf(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.join('.') || 'value'}: ${issue?.message}`;
}

const SIMPLE: Record<string, Indicator['kind']> = {
  md5: 'md5',
  sha1: 'sha1',
  sha256: 'sha256',
  filename: 'filename',
  domain: 'domain',
  hostname: 'domain',
  url: 'url',
  link: 'url',
  'ip-dst': 'ip',
  'ip-src': 'ip',
};

/** Reads a MISP event (`{"Event": ...}`), its attributes and its objects' attributes. */
export function importMispEvent(
  json: unknown,
  prefix: string,
  result: ImportResult = emptyImport(),
): ImportResult {
  const parsedEvent = EventSchema.safeParse((json as { Event?: unknown } | null)?.Event);
  if (!parsedEvent.success) {
    result.rejected.push({
      where: 'event',
      reason: `not a MISP event (${issueOf(parsedEvent.error)} of the "Event" object)`,
    });
    return result;
  }
  const event = parsedEvent.data;
  const info = typeof event.info === 'string' ? event.info : 'MISP event';
  const severity = severityFromThreatLevel(event.threat_level_id);
  const raw: { where: string; value: unknown }[] = (event.Attribute ?? []).map((value, n) => ({
    where: `Attribute[${n}]`,
    value,
  }));
  for (const [n, object] of (event.Object ?? []).entries()) {
    const parsed = ObjectSchema.safeParse(object);
    if (!parsed.success) {
      result.rejected.push({
        where: `${info}: Object[${n}]`,
        reason: `not a MISP object (${issueOf(parsed.error)})`,
      });
      continue;
    }
    for (const [m, value] of (parsed.data.Attribute ?? []).entries())
      raw.push({ where: `Object[${n}].Attribute[${m}]`, value });
  }
  const attributes: MispAttribute[] = [];
  for (const { where, value } of raw) {
    const parsed = AttributeSchema.safeParse(value);
    if (parsed.success) attributes.push(parsed.data);
    else
      result.rejected.push({
        where: `${info}: ${where}`,
        reason: `not a MISP attribute (${issueOf(parsed.error)})`,
      });
  }
  for (const attribute of attributes) {
    const type = attribute.type ?? '';
    const value = (attribute.value ?? '').trim();
    const where = `${info}: ${type} ${JSON.stringify(value.slice(0, 80))}`;
    const title = attribute.comment?.trim() || info;
    const tagged = attribute.Tag?.map((t) => /^chainsweep:severity="?(\w+)"?$/.exec(t.name ?? '')?.[1]).find(
      (s): s is Severity => SEVERITIES.includes(s as Severity),
    );
    const add = (kind: Indicator['kind'], raw: string) => {
      const normalised = normaliseValue(kind, raw);
      if (!normalised) {
        result.rejected.push({ where, reason: `${kind} value is not valid` });
        return;
      }
      const regex = kind === 'filename' && attribute.Tag?.some((t) => t.name === 'chainsweep:syntax="regex"');
      result.indicators.push({
        id: indicatorId(prefix, kind, normalised),
        kind,
        value: normalised,
        title,
        severity: tagged ?? severity,
        confidence: 'medium',
        references: [],
        ...(regex ? { syntax: 'regex' as const } : {}),
      });
    };
    if (SIMPLE[type]) add(SIMPLE[type] as Indicator['kind'], value);
    else if (/^filename\|(md5|sha1|sha256)$/.test(type)) {
      const [name = '', hash = ''] = value.split('|');
      add('filename', name);
      add(type.split('|')[1] as Indicator['kind'], hash);
    } else if (type === 'ip-dst|port' || type === 'ip-src|port') add('ip', value.split('|')[0] ?? '');
    else if (type === 'domain|ip') {
      const [domain = '', ip = ''] = value.split('|');
      add('domain', domain);
      add('ip', ip);
    } else if (type === 'yara') addRule(result, attribute.comment || 'misp-rule', value);
    else result.rejected.push({ where, reason: `unsupported MISP attribute type ${JSON.stringify(type)}` });
  }
  return result;
}

/** Reads a MISP feed folder: manifest.json lists the events, each in `<uuid>.json`. */
export function importMispFeed(
  files: { manifest: unknown; event: (uuid: string) => unknown | undefined },
  prefix: string,
): ImportResult {
  const result = emptyImport();
  const manifest = files.manifest as Record<string, unknown> | undefined;
  if (!manifest || typeof manifest !== 'object') {
    result.rejected.push({ where: 'manifest.json', reason: 'not a MISP feed manifest' });
    return result;
  }
  for (const uuid of Object.keys(manifest)) {
    const event = files.event(uuid);
    if (event === undefined)
      result.rejected.push({
        where: `${uuid}.json`,
        reason: 'listed in manifest.json but missing or unreadable',
      });
    else importMispEvent(event, prefix, result);
  }
  return result;
}

const MISP_TYPE: Record<string, string> = {
  md5: 'md5',
  sha1: 'sha1',
  sha256: 'sha256',
  filename: 'filename',
  domain: 'domain',
  url: 'url',
};

/** One MISP event holding the pack's indicators as attributes (severity as a tag, title as the comment). */
export function exportMispEvent(
  pack: { id: string; title: string; indicators: readonly Indicator[]; rules: ReadonlyMap<string, string> },
  now = new Date(),
): object {
  const attribute = (
    type: string,
    value: string,
    comment: string,
    category: string,
    tags: string[] = [],
  ) => ({
    uuid: randomUUID(),
    type,
    category,
    value,
    comment,
    to_ids: true,
    ...(tags.length ? { Tag: tags.map((name) => ({ name })) } : {}),
  });
  const attributes = pack.indicators.flatMap((i) => {
    const type = i.kind === 'ip' ? 'ip-dst' : MISP_TYPE[i.kind];
    if (!type) return [];
    const category =
      i.kind === 'domain' || i.kind === 'url' || i.kind === 'ip' ? 'Network activity' : 'Payload delivery';
    const tags = [
      `chainsweep:severity="${i.severity}"`,
      ...(i.syntax === 'regex' ? ['chainsweep:syntax="regex"'] : []),
    ];
    return [attribute(type, i.value, i.title, category, tags)];
  });
  for (const [name, text] of pack.rules)
    attributes.push(attribute('yara', text, name.replace(/\.yara?$/, ''), 'Artifacts dropped'));
  return {
    Event: {
      uuid: randomUUID(),
      info: pack.title,
      date: now.toISOString().slice(0, 10),
      threat_level_id: '1',
      analysis: '2',
      distribution: '0',
      published: false,
      Tag: [{ name: `chainsweep:pack="${pack.id}"` }],
      Attribute: attributes,
    },
  };
}

function severityFromThreatLevel(level: unknown): Severity {
  return (
    ({ '1': 'high', '2': 'medium', '3': 'low', '4': 'medium' } as Record<string, Severity>)[String(level)] ??
    'medium'
  );
}
