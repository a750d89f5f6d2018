import { resolve } from 'node:path';
import { UserError } from '../../core/errors.js';
import type { Finding } from '../../core/finding.js';
import { ReportSchema } from '../../core/report.js';
import { nativeEngineAvailable } from '../../matchers/yara-native.js';
import { BUNDLED_PACKS_DIR } from '../../packs/load-intel.js';
import { exitCodeFor } from '../../report/exit-code.js';
import { findingLine, summaryLine } from '../../report/ndjson.js';
import { formatBytes, renderText } from '../../report/text.js';
import { type ScanProgress, scan } from '../../scan/scan.js';
import { parseChoice, parseCommandArgs, parseInteger, parseSeverity, parseSize } from '../args.js';
import { loadIntelFor, PACK_OPTIONS, printDiagnostics } from '../intel-options.js';
import { type CliIo, useColor } from '../io.js';
import { checkOutputPath, openOutput, writeOutput } from '../output.js';
import { TOOL_VERSION } from '../version.js';

export const SCAN_HELP = `Usage: chainsweep scan [PATH...] [options]

Sweeps files with the bundled signature packs plus your own IOC lists and YARA rules.
PATH defaults to your home folder (or the whole image with --root).

Signatures:
  --ioc FILE             IOC list: hashes, Loki hash;description, filename regex;score, C2 domains/IPs (repeatable)
  --yara FILE|DIR        YARA rule file, or a folder of .yar/.yara files (repeatable)
  --pack DIR             extra signed pack folder, or a folder of packs (repeatable)
  --no-bundled           do not load the bundled packs
  --keyring FILE         trust the keys in FILE too (repeatable)
  --require-fresh        refuse expired packs instead of warning
  --strict               refuse to scan when a rule file does not compile

What to read:
  --root DIR             DIR is the root of a mounted disk image
  --exclude GLOB         skip matching files and folders (repeatable; no "/" = any name)
  --all-files            run YARA on every file, not only executables, scripts, installers, archives, icons
  --max-yara-size SIZE   largest file YARA reads into memory (default 64M; larger files are hashed only)
  --cross-filesystems    descend into other mounted filesystems (pseudo and network ones stay skipped)
  --allow-pseudo-fs      sweep a PATH that lies on a pseudo filesystem (/proc, /sys, /dev), refused otherwise
  --threads N            worker threads (default: one per core)
  --yara-timeout SEC     YARA time limit per file (default 60)
  --yara-engine ENGINE   auto (default: native where it is installed), native, or wasm

Output:
  --format text|json|ndjson   (default text)
  --output FILE          write the output to FILE instead of stdout
  --fail-on SEVERITY     exit 1 for findings at or above this (default low)

Exit codes: 0 clean and complete, 1 findings, 2 bad usage or pack problem, 3 no findings but coverage partial.
`;

const OPTIONS = {
  ...PACK_OPTIONS,
  ioc: { type: 'string', multiple: true },
  yara: { type: 'string', multiple: true },
  strict: { type: 'boolean' },
  root: { type: 'string' },
  exclude: { type: 'string', multiple: true },
  'all-files': { type: 'boolean' },
  'max-yara-size': { type: 'string' },
  'cross-filesystems': { type: 'boolean' },
  'allow-pseudo-fs': { type: 'boolean' },
  threads: { type: 'string' },
  'yara-timeout': { type: 'string' },
  'yara-engine': { type: 'string' },
  format: { type: 'string' },
  output: { type: 'string' },
  'fail-on': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `chainsweep scan`: options -> intel -> sweep -> output -> exit code. */
export async function runScan(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('scan', args, OPTIONS);
  if (values.help) {
    io.stdout.write(SCAN_HELP);
    return 0;
  }
  const format = parseChoice('--format', values.format ?? 'text', ['text', 'json', 'ndjson'] as const);
  const failOn = parseSeverity('--fail-on', values['fail-on'] ?? 'low');
  if (values.output) checkOutputPath(io, values.output); // refused before the scan, not after it
  const maxYaraBytes = parseSize('--max-yara-size', values['max-yara-size'] ?? '64M');
  const threads = values.threads ? parseInteger('--threads', values.threads, 1, 256) : undefined;
  const yaraTimeoutMs = parseInteger('--yara-timeout', values['yara-timeout'] ?? '60', 1, 86_400) * 1000;
  const yaraEngine = parseChoice('--yara-engine', values['yara-engine'] ?? 'auto', [
    'auto',
    'native',
    'wasm',
  ] as const);
  if (yaraEngine === 'native' && !nativeEngineAvailable()) {
    throw new UserError(
      'USAGE',
      '--yara-engine native: the native YARA-X engine is not installed for this platform',
    );
  }
  const at = (p: string) => resolve(io.cwd, p);

  const { intel, diagnostics } = await loadIntelFor(values, io, { ioc: values.ioc, yara: values.yara });

  // NDJSON streams into the output as findings come; JSON and text are written once the scan is done.
  const stream = format === 'ndjson' ? await openOutput(io, values.output) : undefined;
  // Writes are chained in order; the first failure is kept (never an unhandled rejection) and thrown after the scan.
  let streamed: Promise<unknown> = Promise.resolve();
  let streamError: unknown;
  const onFinding = stream
    ? (finding: Finding) => {
        streamed = streamed.then(() =>
          streamError ? undefined : stream.write(findingLine(finding)).catch((e) => (streamError = e)),
        );
      }
    : undefined;
  const progress = io.stderr.isTTY ? progressPrinter(io) : undefined;

  const report = await scan({
    paths: positionals.map(at),
    ...(values.root ? { imageRoot: at(values.root) } : {}),
    excludes: values.exclude ?? [],
    ownFolders: [BUNDLED_PACKS_DIR],
    allFiles: Boolean(values['all-files']),
    maxYaraBytes,
    crossFilesystems: Boolean(values['cross-filesystems']),
    allowPseudoFs: Boolean(values['allow-pseudo-fs']),
    ...(threads ? { threads } : {}),
    yaraTimeoutMs,
    yaraEngine,
    intel,
    intelDiagnostics: diagnostics,
    strict: Boolean(values.strict),
    toolVersion: TOOL_VERSION,
    onDiagnostics: (d) => printDiagnostics(io, d),
    ...(onFinding ? { onFinding } : {}),
    ...(progress ? { onProgress: progress.update } : {}),
  });
  progress?.clear();
  ReportSchema.parse(report);

  if (stream) {
    try {
      await streamed;
      if (streamError) throw streamError;
      await stream.write(summaryLine(report));
      await stream.close();
    } catch (error) {
      await stream.discard();
      throw error;
    }
  } else if (format === 'json') await writeOutput(io, values.output, `${JSON.stringify(report, null, 2)}\n`);
  else
    await writeOutput(
      io,
      values.output,
      renderText(report, { color: !values.output && useColor(io, io.stdout) }),
    );
  return exitCodeFor(report, failOn);
}

function progressPrinter(io: CliIo): { update: (p: ScanProgress) => void; clear: () => void } {
  const started = Date.now();
  const width = () => Math.max(40, (io.stderr.columns ?? 100) - 1);
  return {
    update: (p) => {
      const seconds = Math.max(0.001, (Date.now() - started) / 1000);
      const line = `${p.files} files · ${formatBytes(p.bytes)} · ${formatBytes(p.bytes / seconds)}/s · ${p.currentDir}`;
      io.stderr.write(`\r\x1b[K${line.slice(0, width())}`);
    },
    clear: () => io.stderr.write('\r\x1b[K'),
  };
}
