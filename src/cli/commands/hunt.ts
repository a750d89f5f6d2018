import { resolve } from 'node:path';
import { UserError } from '../../core/errors.js';
import { displayPath } from '../../core/paths.js';
import type { Report } from '../../core/report.js';
import { hunt } from '../../hunt/hunt.js';
import { LOG_FORMATS } from '../../hunt/log-formats.js';
import { DEFAULT_INFLATE_LIMITS } from '../../hunt/scan-log.js';
import { exitCodeFor } from '../../report/exit-code.js';
import { findingLine, summaryLine } from '../../report/ndjson.js';
import { parseChoice, parseCommandArgs, parseInteger, parseSeverity, parseSize } from '../args.js';
import { loadIntelFor, PACK_OPTIONS } from '../intel-options.js';
import type { CliIo } from '../io.js';
import { checkOutputPath, openOutput, writeOutput } from '../output.js';
import { TOOL_VERSION } from '../version.js';

export const HUNT_HELP = `Usage: chainsweep hunt [FILE|DIR|-]... [options]

Reads DNS, proxy, Zeek, Suricata, Sysmon and other logs (plain or .gz; folders recursively; - for stdin; FIFOs,
devices and process substitution as streams) and reports every record that touched a domain, URL or IP
indicator, with time and client, and per client: first seen, last seen, hits and indicators.

  --log-format FORMAT    ${LOG_FORMATS.join(', ')} (default: detected per file)
  --field NAME           a JSON field that holds a domain, URL or IP (repeatable)
  --since TIME, --until TIME   keep records in this window (ISO 8601, e.g. 2023-03-22 or 2023-03-22T08:00Z)
  --year N               the year of syslog-style times that have none (default: from each file's mtime)
  --max-inflated-size SIZE     stop inflating a .gz log past SIZE (default 16G; reported, the rest read)
  --max-inflate-ratio N        stop inflating a .gz log past N:1 once it passes 64M (default ${DEFAULT_INFLATE_LIMITS.maxRatio})
  --ioc FILE             your own domain/URL/IP list (repeatable); --pack DIR, --no-bundled, --keyring FILE
  --threads N            worker threads (default: one per core; one log per thread)
  --format text|json|ndjson, --output FILE, --fail-on SEVERITY (default low)
                         (ndjson streams every hit; json and text list the first 100,000, most severe first)
`;

const OPTIONS = {
  ...PACK_OPTIONS,
  'log-format': { type: 'string' },
  field: { type: 'string', multiple: true },
  since: { type: 'string' },
  until: { type: 'string' },
  year: { type: 'string' },
  'max-inflated-size': { type: 'string' },
  'max-inflate-ratio': { type: 'string' },
  ioc: { type: 'string', multiple: true },
  threads: { type: 'string' },
  format: { type: 'string' },
  output: { type: 'string' },
  'fail-on': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `chainsweep hunt`: logs in, hits and per-client answers out. */
export async function runHunt(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('hunt', args, OPTIONS);
  if (values.help) {
    io.stdout.write(HUNT_HELP);
    return 0;
  }
  const format = parseChoice('--format', values.format ?? 'text', ['text', 'json', 'ndjson'] as const);
  const failOn = parseSeverity('--fail-on', values['fail-on'] ?? 'low');
  const logFormat = values['log-format']
    ? parseChoice('--log-format', values['log-format'], LOG_FORMATS)
    : undefined;
  const inflate = {
    maxBytes: parseSize('--max-inflated-size', values['max-inflated-size'] ?? '16G'),
    maxRatio: parseInteger(
      '--max-inflate-ratio',
      values['max-inflate-ratio'] ?? String(DEFAULT_INFLATE_LIMITS.maxRatio),
      2,
      1_000_000,
    ),
  };
  const at = (p: string) => (p === '-' ? p : resolve(io.cwd, p));
  const huntOptions = {
    paths: positionals.map(at),
    toolVersion: TOOL_VERSION,
    inflate,
    ...(logFormat ? { format: logFormat } : {}),
    ...(values.field ? { fields: values.field } : {}),
    ...(values.since ? { since: parseTime('--since', values.since) } : {}),
    ...(values.until ? { until: parseTime('--until', values.until) } : {}),
    ...(values.year ? { year: parseInteger('--year', values.year, 1970, 9999) } : {}),
    ...(values.threads ? { threads: parseInteger('--threads', values.threads, 1, 256) } : {}),
  };
  if (values.output) checkOutputPath(io, values.output); // refused before the hunt, not after it
  // NDJSON streams into the output from the start; JSON and text are written once the hunt is done.
  const stream = format === 'ndjson' ? await openOutput(io, values.output) : undefined;
  try {
    const { intel, diagnostics } = await loadIntelFor(values, io, { ioc: values.ioc });
    let pending = '';
    const flush = async (limit: number) => {
      if (!stream || pending.length <= limit) return;
      const text = pending;
      pending = '';
      await stream.write(text);
    };
    const report = await hunt({
      ...huntOptions,
      intel,
      intelDiagnostics: diagnostics,
      ...(stream
        ? {
            onFindings: async (findings) => {
              for (const f of findings) pending += findingLine(f);
              await flush(1 << 20);
            },
          }
        : {}),
    });
    if (stream) {
      await flush(0);
      await stream.write(summaryLine(report));
      await stream.close();
    } else
      await writeOutput(
        io,
        values.output,
        format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderHunt(report),
      );
    return exitCodeFor(report, failOn);
  } catch (error) {
    await stream?.discard();
    throw error;
  }
}

function parseTime(option: string, text: string): Date {
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(date.getTime()))
    throw new UserError('USAGE', `${option}: ${JSON.stringify(text)} is not a date or time`);
  return date;
}

function renderHunt(report: Report): string {
  const h = report.hunt;
  const lines = [
    `chainsweep ${report.tool.version} hunt: ${h?.logs.length ?? 0} logs, ${h?.logs.reduce((n, l) => n + l.lines, 0) ?? 0} lines`,
    `  ${h?.logs.map((l) => `${displayPath(l.file)} (${l.format}, ${l.hits} hits)`).join('; ')}`,
    '',
  ];
  const clients = h?.clients ?? [];
  if (clients.length === 0) lines.push('No machine touched an indicator.', '');
  else {
    const when = (c: (typeof clients)[number]) =>
      c.firstSeen ? `first ${c.firstSeen}, last ${c.lastSeen}` : 'no time in the log';
    lines.push(
      `${clients.length} machines touched indicators${clients[0]?.firstSeen ? `, first on ${clients[0].firstSeen.slice(0, 10)}` : ''}:`,
    );
    for (const c of clients)
      lines.push(
        `  ${displayPath(c.client).padEnd(24)} ${String(c.hits).padStart(6)} hits  ${when(c)}  ${displayPath(c.indicators.join(', '))}`,
      );
    lines.push('');
  }
  for (const f of report.findings.slice(0, 200)) {
    const log = f.subject.log;
    lines.push(
      `  ${f.severity.toUpperCase().padEnd(8)} ${log?.timestamp ?? '-'}  ${displayPath(log?.client ?? '-')}  ${displayPath(log?.seen ?? '')}  [${displayPath(f.indicatorId)}, pack ${displayPath(f.packId)}]  ${displayPath(log?.file ?? '')}:${log?.line}`,
    );
  }
  if (report.findings.length > 200)
    lines.push(`  ... ${report.findings.length - 200} more (see --format json)`);
  for (const l of h?.logs ?? []) {
    const noYear = l.counts['no-year'] ?? 0;
    const bad = l.counts['bad-times'] ?? 0;
    if (noYear)
      lines.push(`note: ${displayPath(l.file)}: ${noYear} times without a year and no mtime (give --year N)`);
    if (bad)
      lines.push(`note: ${displayPath(l.file)}: ${bad} records with an unreadable time (read without it)`);
  }
  for (const c of report.coverage.filter((c) => c.outcome === 'partial')) {
    for (const p of c.problems)
      lines.push(`coverage: ${displayPath(p.path)}: ${p.code}: ${displayPath(p.message)}`);
  }
  lines.push(`result: ${report.findings.length + (h?.unlistedHits ?? 0)} hits; coverage ${report.outcome}`);
  return `${lines.join('\n')}\n`;
}
