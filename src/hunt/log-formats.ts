/** @module Log formats: how to recognise each, and how to read one record's time, client and network values. */

export const LOG_FORMATS = [
  'zeek-tsv',
  'zeek-json',
  'suricata-eve',
  'squid',
  'windows-dns',
  'sysmon-json',
  'sysmon-xml',
  'bind',
  'dnsmasq',
  'json',
  'text',
] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** A network value a record holds, and the field it came from. */
export interface LogValue {
  kind: 'domain' | 'url' | 'ip';
  value: string;
  field?: string;
}

/** What one record says: when, which machine, and the network values in it. */
export interface LogRecord {
  timestamp?: string;
  /** Why a time the record holds is not in `timestamp`: unreadable or out of range, or a date without a year. */
  timeIssue?: 'bad-times' | 'no-year';
  client?: string;
  values: LogValue[];
}

/** Where the year of a yearless time (syslog's `Mar 29 10:00:00`) comes from: `--year`, else the log's mtime. */
export interface YearHint {
  year?: number;
  /** The log file's modification time; a month later than its month means the previous year. */
  modified?: Date;
}

/** The column names of the Zeek TSV header in effect. */
export interface ZeekHeader {
  separator: string;
  fields: string[];
  path?: string;
}

/** Recognises the format of a log from its first lines. */
export function detectFormat(head: string): LogFormat {
  const lines = head.split('\n', 50).filter((l) => l.trim() !== '');
  const first = lines[0]?.trim() ?? '';
  if (first.startsWith('#separator') || first.startsWith('#fields')) return 'zeek-tsv';
  if (/^<\?xml|^<Events?[\s>]/.test(first) || /<Event xmlns=/.test(head.slice(0, 4096))) return 'sysmon-xml';
  if (first.startsWith('{')) {
    try {
      const record = JSON.parse(first) as Record<string, unknown>;
      if ('event_type' in record) return 'suricata-eve';
      if ('id.orig_h' in record || ('ts' in record && ('uid' in record || 'query' in record)))
        return 'zeek-json';
      if (sysmonEventId(record) !== undefined) return 'sysmon-json';
      return 'json';
    } catch {
      return 'text';
    }
  }
  if (lines.some((l) => /^\d{9,10}\.\d{3}\s+\d+\s+\S+\s+[A-Z_]+\/\d{3}\s+\d+\s+[A-Z]+\s+\S+/.test(l)))
    return 'squid';
  if (
    /DNS Server log file|PACKET {2}[0-9A-F]+ (UDP|TCP)/.test(head) ||
    lines.some((l) => /\(\d+\)[A-Za-z0-9-]+\(\d+\)/.test(l) && /\b(Rcv|Snd)\b/.test(l))
  ) {
    return 'windows-dns';
  }
  if (lines.some((l) => /client (@0x[0-9a-f]+ )?[0-9a-f.:]+#\d+ \([^)]*\): query: /.test(l))) return 'bind';
  if (lines.some((l) => /dnsmasq(\[\d+\])?: (query|reply|forwarded|cached)/.test(l))) return 'dnsmasq';
  return 'text';
}

/** The Zeek header after a `#separator` or `#fields` line; `#separator \x09` style escapes decoded. */
export function readZeekHeaderLine(line: string, header: ZeekHeader): ZeekHeader {
  if (line.startsWith('#separator')) {
    const raw = line.slice('#separator'.length).trim();
    return {
      ...header,
      separator: raw.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) =>
        String.fromCharCode(Number.parseInt(h, 16)),
      ),
    };
  }
  if (line.startsWith('#fields')) return { ...header, fields: line.split(header.separator).slice(1) };
  if (line.startsWith('#path')) return { ...header, path: line.split(header.separator)[1] ?? '' };
  return header;
}

export const DEFAULT_ZEEK_HEADER: ZeekHeader = { separator: '\t', fields: [] };

/** The generic JSON field names looked at when nothing better is known (dotted names reach into objects). */
export const GENERIC_FIELDS = {
  domain: [
    'query',
    'qname',
    'host',
    'hostname',
    'domain',
    'server_name',
    'sni',
    'dns.question.name',
    'url.domain',
    'destination.domain',
  ],
  url: ['url', 'uri', 'request', 'url.full', 'http.url'],
  ip: ['dest_ip', 'dst_ip', 'destination.ip', 'dst', 'remote_ip', 'ip'],
  client: [
    'client',
    'client_ip',
    'src_ip',
    'source.ip',
    'host.name',
    'computer',
    'hostname_client',
    'id.orig_h',
  ],
  time: ['@timestamp', 'timestamp', 'ts', 'time', 'datetime', 'date'],
};

/**
 * Reads one record of `format`. Throws on a record the format cannot read; callers fall back to its raw text. A
 * time that cannot be read never throws: the record is read without it and `timeIssue` says why.
 */
export function parseRecord(
  format: LogFormat,
  text: string,
  zeek: ZeekHeader,
  extraFields: readonly string[] = [],
  years: YearHint = {},
): LogRecord {
  switch (format) {
    case 'zeek-tsv': {
      const columns = text.split(zeek.separator);
      return zeekRecord(Object.fromEntries(zeek.fields.map((f, i) => [f, columns[i] ?? ''])), zeek.path);
    }
    case 'zeek-json':
      return zeekRecord(flatten(jsonObject(text)), undefined);
    case 'suricata-eve':
      return suricataRecord(jsonObject(text));
    case 'squid':
      return squidRecord(text);
    case 'windows-dns':
      return windowsDnsRecord(text);
    case 'sysmon-json':
      return sysmonRecord(flatten(jsonObject(text)));
    case 'sysmon-xml':
      return sysmonRecord(sysmonXmlFields(text));
    case 'bind':
      return bindRecord(text, years);
    case 'dnsmasq':
      return dnsmasqRecord(text, years);
    case 'json':
      return genericJsonRecord(flatten(jsonObject(text)), extraFields);
    case 'text':
      return { ...timeInText(text, years), values: [] };
  }
}

/** A JSON record that is an object (a number, string, array or null is not a record). */
function jsonObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
  return value as Record<string, unknown>;
}

function zeekRecord(f: Record<string, unknown>, path: string | undefined): LogRecord {
  const values: LogValue[] = [];
  const str = (k: string) => {
    const v = f[k];
    return typeof v === 'string' && v !== '-' && v !== '(empty)' && v !== '' ? v : undefined;
  };
  const q = str('query');
  if (q) values.push({ kind: 'domain', value: q, field: 'query' });
  const host = str('host');
  if (host) {
    const uri = str('uri') ?? '/';
    values.push({
      kind: 'url',
      value: `http://${host}${uri.startsWith('/') ? uri : `/${uri}`}`,
      field: 'host+uri',
    });
  }
  const sni = str('server_name');
  if (sni) values.push({ kind: 'domain', value: sni, field: 'server_name' });
  const resp = str('id.resp_h');
  if (resp && (path === undefined || path === 'conn' || !q))
    values.push({ kind: 'ip', value: resp, field: 'id.resp_h' });
  const answers = f.answers;
  for (const a of Array.isArray(answers)
    ? answers
    : typeof answers === 'string' && answers !== '-'
      ? answers.split(',')
      : []) {
    if (typeof a === 'string')
      values.push({ kind: /^[\d.:a-f]+$/i.test(a) ? 'ip' : 'domain', value: a, field: 'answers' });
  }
  return {
    ...timeField(f.ts === '-' ? undefined : f.ts, epochOrIso),
    ...(str('id.orig_h') ? { client: str('id.orig_h') as string } : {}),
    values,
  };
}

function suricataRecord(e: Record<string, unknown>): LogRecord {
  const f = flatten(e);
  const values: LogValue[] = [];
  const add = (kind: LogValue['kind'], key: string) => {
    const v = f[key];
    if (typeof v === 'string' && v) values.push({ kind, value: v, field: key });
  };
  add('domain', 'dns.rrname');
  add('domain', 'dns.query.0.rrname');
  for (const [key, v] of Object.entries(f)) {
    if (/^dns\.queries\.\d+\.rrname$/.test(key) && typeof v === 'string')
      values.push({ kind: 'domain', value: v, field: key });
  }
  if (typeof f['http.hostname'] === 'string') {
    const url = String(f['http.url'] ?? '/');
    values.push({
      kind: 'url',
      value: url.includes('://') ? url : `http://${f['http.hostname']}${url}`,
      field: 'http.hostname+url',
    });
  }
  add('domain', 'tls.sni');
  add('ip', 'dest_ip');
  return {
    ...timeField(f.timestamp, isoTime),
    ...(typeof f.src_ip === 'string' ? { client: f.src_ip } : {}),
    values,
  };
}

function squidRecord(line: string): LogRecord {
  const parts = line.trim().split(/\s+/);
  const [time, , client, , , method, url] = parts;
  if (!time || !url) throw new Error('not a squid access.log line');
  const values: LogValue[] = [];
  if (method === 'CONNECT') values.push({ kind: 'domain', value: url.replace(/:\d+$/, ''), field: 'url' });
  else values.push({ kind: 'url', value: url, field: 'url' });
  const server = parts[8]?.split('/')[1];
  if (server && server !== '-') values.push({ kind: 'ip', value: server, field: 'hierarchy' });
  return { ...timeField(time, epochOrIso), ...(client ? { client } : {}), values };
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function windowsDnsRecord(line: string): LogRecord {
  const name = /((?:\(\d+\)[^()\s]+)+\(0\))/.exec(line)?.[1];
  if (!name) throw new Error('no query name');
  const decoded = name
    .replace(/^\(\d+\)/, '')
    .replace(/\(0\)$/, '')
    .replace(/\(\d+\)/g, '.');
  const client = /\b(?:Rcv|Snd)\s+([0-9a-fA-F.:]+)/.exec(line)?.[1];
  const when = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2})(?: ?([AP]M))?/.exec(line);
  let time: Date | undefined;
  if (when) {
    let hour = Number(when[4]);
    if (when[7] === 'PM' && hour < 12) hour += 12;
    if (when[7] === 'AM' && hour === 12) hour = 0;
    time = new Date(
      Number(when[3]),
      Number(when[1]) - 1,
      Number(when[2]),
      hour,
      Number(when[5]),
      Number(when[6]),
    );
  }
  return {
    ...timeField(time, (d: Date) => inRange(d.getTime())),
    ...(client ? { client } : {}),
    values: [{ kind: 'domain', value: decoded, field: 'question' }],
  };
}

function sysmonEventId(record: Record<string, unknown>): number | undefined {
  const f = flatten(record);
  const id = f.EventID ?? f['event.code'] ?? f['winlog.event_id'] ?? f.EventId ?? f['Event.System.EventID'];
  const n = Number(id);
  const provider = String(
    f['winlog.provider_name'] ?? f.SourceName ?? f.ProviderName ?? f.Channel ?? f['winlog.channel'] ?? '',
  );
  return Number.isFinite(n) &&
    (n === 22 || n === 3) &&
    (/sysmon/i.test(provider) ||
      'QueryName' in f ||
      'DestinationIp' in f ||
      'winlog.event_data.QueryName' in f)
    ? n
    : undefined;
}

function sysmonRecord(f: Record<string, unknown>): LogRecord {
  const pick = (...names: string[]) => {
    for (const name of names) {
      const v =
        f[name] ?? f[`winlog.event_data.${name}`] ?? f[`EventData.${name}`] ?? f[`Event.EventData.${name}`];
      if (typeof v === 'string' && v !== '' && v !== '-') return v;
    }
    return undefined;
  };
  const values: LogValue[] = [];
  const query = pick('QueryName');
  if (query) values.push({ kind: 'domain', value: query, field: 'QueryName' });
  const host = pick('DestinationHostname');
  if (host) values.push({ kind: 'domain', value: host, field: 'DestinationHostname' });
  const ip = pick('DestinationIp');
  if (ip) values.push({ kind: 'ip', value: ip, field: 'DestinationIp' });
  for (const answer of (pick('QueryResults') ?? '').split(';')) {
    const a = answer.replace(/^::ffff:/, '').trim();
    if (/^\d+\.\d+\.\d+\.\d+$/.test(a)) values.push({ kind: 'ip', value: a, field: 'QueryResults' });
  }
  const time = pick(
    'UtcTime',
    '@timestamp',
    'TimeCreated',
    'TimeCreated.SystemTime',
    'System.TimeCreated.SystemTime',
  );
  const client = pick('Computer', 'host.name', 'computer_name', 'winlog.computer_name', 'System.Computer');
  return { ...timeField(time, isoTime), ...(client ? { client } : {}), values };
}

/** The named fields of one Sysmon `<Event>` in XML: its `<Data Name=...>` values, Computer and TimeCreated. */
function sysmonXmlFields(xml: string): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const m of xml.matchAll(/<Data Name=['"]([^'"]+)['"]\s*>([^<]*)<\/Data>/g))
    fields[m[1] as string] = decodeXml(m[2] as string);
  const computer = /<Computer>([^<]*)<\/Computer>/.exec(xml)?.[1];
  if (computer) fields.Computer = decodeXml(computer);
  const created = /<TimeCreated SystemTime=['"]([^'"]+)['"]/.exec(xml)?.[1];
  if (created && !fields.UtcTime) fields.TimeCreated = created;
  return fields;
}

function bindRecord(line: string, years: YearHint): LogRecord {
  const m = /client (?:@0x[0-9a-f]+ )?([0-9a-fA-F.:]+)#\d+ \(([^)]*)\): query: (\S+)/.exec(line);
  if (!m) throw new Error('not a BIND query line');
  // BIND's own `29-Mar-2023 13:00:00.123`; through syslog, syslog's time without a year.
  const when = /^(\d{2})-([A-Za-z]{3})-(\d{4}) (\d{2}:\d{2}:\d{2})(\.\d+)?/.exec(line);
  const time = when
    ? timeField(
        `${when[3]}-${String(MONTHS.indexOf((when[2] ?? '').toLowerCase()) + 1).padStart(2, '0')}-${when[1]}T${when[4]}${when[5] ?? ''}Z`,
        isoTime,
      )
    : timeInText(line, years);
  return {
    ...time,
    client: m[1] as string,
    values: [{ kind: 'domain', value: m[3] as string, field: 'query' }],
  };
}

function dnsmasqRecord(line: string, years: YearHint): LogRecord {
  const m = /(query|reply|forwarded|cached)(?:\[[A-Z0-9]+\])? (\S+) (?:from|to|is) (\S+)/.exec(line);
  if (!m) throw new Error('not a dnsmasq query line');
  const values: LogValue[] = [{ kind: 'domain', value: m[2] as string, field: m[1] as string }];
  if (m[1] === 'reply' && /^[\d.]+$/.test(m[3] ?? ''))
    values.push({ kind: 'ip', value: m[3] as string, field: 'reply' });
  return { ...timeInText(line, years), ...(m[1] === 'query' ? { client: m[3] as string } : {}), values };
}

function genericJsonRecord(f: Record<string, unknown>, extraFields: readonly string[]): LogRecord {
  const values: LogValue[] = [];
  const str = (k: string) =>
    typeof f[k] === 'string' && f[k] !== ''
      ? (f[k] as string)
      : typeof f[k] === 'number'
        ? String(f[k])
        : undefined;
  for (const k of GENERIC_FIELDS.domain)
    if (str(k)) values.push({ kind: 'domain', value: str(k) as string, field: k });
  for (const k of GENERIC_FIELDS.url)
    if (str(k)) values.push({ kind: 'url', value: str(k) as string, field: k });
  for (const k of GENERIC_FIELDS.ip)
    if (str(k)) values.push({ kind: 'ip', value: str(k) as string, field: k });
  for (const k of extraFields) {
    const v = str(k);
    if (v)
      values.push({
        kind: /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? 'url' : /^[\d.]+$|:/.test(v) ? 'ip' : 'domain',
        value: v,
        field: k,
      });
  }
  const times = GENERIC_FIELDS.time.map((k) => f[k]).filter((v) => v !== undefined);
  const time =
    times.map((v) => timeField(v, epochOrIso)).find((t) => t.timestamp) ?? timeField(times[0], epochOrIso);
  const client = GENERIC_FIELDS.client.map(str).find(Boolean);
  return { ...time, ...(client ? { client } : {}), values };
}

const FLATTEN_DEPTH = 16;
const FLATTEN_KEYS = 10_000;

/**
 * Nested objects as dotted keys (`dns.rrname`), arrays by index. Every top-level key is kept; below them at most
 * 16 levels and 10,000 keys are, so a record of huge or deeply nested arrays costs no more than a normal one.
 */
export function flatten(value: object): Record<string, unknown> {
  // No prototype: a `__proto__` key in a record is a field like any other, never the object's prototype.
  const out: Record<string, unknown> = Object.create(null);
  let left = FLATTEN_KEYS;
  const into = (node: object, prefix: string, depth: number) => {
    const visit = (key: string, v: unknown) => {
      const name = prefix ? `${prefix}.${key}` : key;
      out[name] = v;
      left--;
      if (v && typeof v === 'object' && depth < FLATTEN_DEPTH && left > 0) into(v, name, depth + 1);
    };
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length && (depth === 0 || left > 0); i++) visit(String(i), node[i]);
    } else {
      for (const key of Object.keys(node)) {
        if (depth > 0 && left <= 0) break;
        visit(key, (node as Record<string, unknown>)[key]);
      }
    }
  };
  into(value, '', 0);
  return out;
}

/** The first recognisable time in free text: ISO 8601, or syslog's `Mar 29 10:00:00` with the year from `years`. */
function timeInText(text: string, years: YearHint): Pick<LogRecord, 'timestamp' | 'timeIssue'> {
  const iso = /\b(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)/.exec(text)?.[1];
  if (iso) {
    const timestamp = inRange(new Date(iso.replace(' ', 'T')).getTime());
    if (timestamp) return { timestamp };
  }
  const sys = /\b([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})\b/.exec(text);
  const month = MONTHS.indexOf((sys?.[1] ?? '').toLowerCase());
  if (!sys || month < 0) return {};
  const year =
    years.year ??
    (years.modified ? years.modified.getFullYear() - (month > years.modified.getMonth() ? 1 : 0) : undefined);
  if (year === undefined) return { timeIssue: 'no-year' };
  const d = new Date(year, month, Number(sys[2]), Number(sys[3]), Number(sys[4]), Number(sys[5]));
  return timeField(d, (t: Date) => inRange(t.getTime()));
}

/** `{ timestamp }` when `value` reads as a time, `{ timeIssue }` when it is there but does not, `{}` when absent. */
function timeField<T>(
  value: T | undefined,
  read: (value: T) => string | undefined,
): Pick<LogRecord, 'timestamp' | 'timeIssue'> {
  if (value === undefined) return {};
  const timestamp = read(value);
  return timestamp ? { timestamp } : { timeIssue: 'bad-times' };
}

const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** ISO 8601 for a time from 1970 to 9999; anything else (NaN, infinite, negative, year 33658) is no time. */
function inRange(ms: number): string | undefined {
  return Number.isFinite(ms) && ms >= EARLIEST && ms <= LATEST ? new Date(ms).toISOString() : undefined;
}

/** Seconds (or milliseconds, past 1e12) since the epoch, as a number or a numeric string; else an ISO time. */
function epochOrIso(value: unknown): string | undefined {
  if (typeof value === 'string' && /^\s*\d+(?:\.\d+)?\s*$/.test(value)) return epochOrIso(Number(value));
  if (typeof value === 'number') return inRange(value > 1e12 ? value : value * 1000);
  return typeof value === 'string' ? isoTime(value) : undefined;
}

function isoTime(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return inRange(
    new Date(
      /^\d{4}-\d{2}-\d{2} \d/.test(value) && !/[zZ+]|-\d\d:?\d\d$/.test(value.slice(10))
        ? `${value.replace(' ', 'T')}Z`
        : value,
    ).getTime(),
  );
}

function decodeXml(text: string): string {
  return text.replace(
    /&(amp|lt|gt|quot|apos);/g,
    (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e] ?? '',
  );
}
