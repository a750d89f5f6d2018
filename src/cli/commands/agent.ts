import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type CycleResult } from '../../agent/agent.js';
import { isAgentProcess } from '../../agent/agent-process.js';
import { parseDuration } from '../../agent/backoff.js';
import { normaliseHubUrl } from '../../agent/credential.js';
import { keptHostId } from '../../agent/kept-host-id.js';
import { openStateFolder } from '../../agent/state-folder.js';
import { UserError } from '../../core/errors.js';
import { nativeEngineAvailable } from '../../matchers/yara-native.js';
import { ROOT_KEYS } from '../../packs/key-list.js';
import { readKeyringFile } from '../../packs/keyring.js';
import { acquireLock, releaseLock } from '../../packs/store-lock.js';
import { EXIT } from '../../report/exit-code.js';
import { readHostIdentity } from '../../scan/host-identity.js';
import { parseChoice, parseCommandArgs, parseInteger, parseSize } from '../args.js';
import { keyringFrom, PACK_OPTIONS, printDiagnostics } from '../intel-options.js';
import { type CliIo, logLine } from '../io.js';
import { TOOL_VERSION } from '../version.js';

export const AGENT_HELP = `Usage: chainsweep agent --hub URL --state DIR [--enrol TOKEN] (--once | --every DURATION)
                        [options] [-- SCAN OPTIONS AND PATHS]

Enrols with a hub once, then each cycle: sends what the spool still holds, updates packs from the hub's feed
(URL/feed/, checked as "packs update" checks), scans (with the scan options and paths after --; default: the
home folder, or the whole image with --root), hunts --logs, spools every report and uploads it.

  --hub URL                  the hub
  --enrol TOKEN              enrolment token (first run only; the credential is kept in DIR/credential, 0600)
  --state DIR                the agent's private state folder (created 0700): credential, packs, spool
  --once                     one cycle, then exit
  --every DURATION           a cycle every DURATION (30s, 15m, 6h, 1d) until SIGTERM or SIGINT
  --logs PATH                DNS, proxy, Zeek... log file or folder to hunt each cycle too (repeatable)
  --root-keyring FILE        root keys trusted for the feed's key list (repeatable)
  --format text|json         json: one line per cycle on stdout (default: nothing on stdout)
  --spool-max-reports N      most reports kept for sending (default 200); the oldest are dropped past it
  --spool-max-bytes SIZE     most bytes kept for sending (default 256M)
  --retries N                retries of an upload within a cycle (default 5)
  --retry-base DURATION      first retry wait, doubled each time, half of it random (default 1s)
  --retry-cap DURATION       longest wait between two retries (default 5m)
  --max-retry-after DURATION longest Retry-After waited for within a cycle (default 15m)
  --timeout DURATION         longest one request to the hub may take (default 60s)

Scan options after --: the paths and options of "chainsweep scan" except --format, --output and --fail-on;
its --keyring also verifies the feed's packs.

Exit codes: 0 every report was sent or spooled (spooled reports are sent later), 2 bad usage, a refused
enrolment token or a revoked credential, 74 a report could be neither sent nor spooled.
`;

const AGENT_OPTIONS = {
  hub: { type: 'string' },
  enrol: { type: 'string' },
  state: { type: 'string' },
  once: { type: 'boolean' },
  every: { type: 'string' },
  logs: { type: 'string', multiple: true },
  'root-keyring': { type: 'string', multiple: true },
  format: { type: 'string' },
  'spool-max-reports': { type: 'string' },
  'spool-max-bytes': { type: 'string' },
  retries: { type: 'string' },
  'retry-base': { type: 'string' },
  'retry-cap': { type: 'string' },
  'max-retry-after': { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The options of `scan` the agent passes through (its own output options excepted). */
const SCAN_OPTIONS = {
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
} as const;

/** `chainsweep agent`: enrol, update packs, scan, hunt, spool and upload, once or on a schedule. */
export async function runAgent(args: string[], io: CliIo): Promise<number> {
  const split = args.indexOf('--');
  const own = split === -1 ? args : args.slice(0, split);
  const passed = split === -1 ? [] : args.slice(split + 1);
  const { values, positionals } = parseCommandArgs('agent', own, AGENT_OPTIONS);
  if (values.help) {
    io.stdout.write(AGENT_HELP);
    return EXIT.clean;
  }
  if (positionals.length)
    throw new UserError(
      'USAGE',
      `agent: scan paths go after --, as in: agent ... --once -- ${positionals[0]}`,
    );
  if (!values.hub) throw new UserError('USAGE', 'agent: --hub URL is required');
  if (!values.state) throw new UserError('USAGE', 'agent: --state DIR is required');
  if (Boolean(values.once) === Boolean(values.every))
    throw new UserError('USAGE', 'agent: give either --once or --every DURATION');
  const every = values.every ? parseDuration('--every', values.every) : undefined;
  if (every !== undefined && every < 1000) throw new UserError('USAGE', '--every: at least 1s');
  const format = parseChoice('--format', values.format ?? 'text', ['text', 'json'] as const);
  const hub = normaliseHubUrl(values.hub);
  const at = (p: string) => resolve(io.cwd, p);
  const scanArgs = parseCommandArgs('agent (scan options after --)', passed, SCAN_OPTIONS);
  const s = scanArgs.values;
  const yaraEngine = parseChoice('--yara-engine', s['yara-engine'] ?? 'auto', [
    'auto',
    'native',
    'wasm',
  ] as const);
  if (yaraEngine === 'native' && !nativeEngineAvailable())
    throw new UserError(
      'USAGE',
      '--yara-engine native: the native YARA-X engine is not installed for this platform',
    );
  const imageRoot = s.root ? at(s.root) : undefined;
  const threads = s.threads ? parseInteger('--threads', s.threads, 1, 256) : undefined;
  const log = (line: string) => logLine(io, `agent: ${line}`);

  const { protocol, hostname } = new URL(hub);
  if (protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(hostname))
    log(`${hub} is plain http: the credential and the reports cross the network unencrypted`);
  const folder = openStateFolder(at(values.state));
  const roots = [...ROOT_KEYS];
  for (const file of values['root-keyring'] ?? []) roots.push(...(await readKeyringFile(at(file))));
  const stop = new AbortController();
  await acquireLock(folder.lock, 0, isAgentProcess).catch((error: Error) => {
    throw new UserError('STORE_LOCKED', `agent: another agent runs on ${folder.dir}: ${error.message}`);
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stop.signal.aborted) log(`${signal}: stopping after the upload in flight`);
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const kept = keptHostId(folder.dir);
    const host = await readHostIdentity({ ...(imageRoot ? { imageRoot } : {}), keptHostId: kept });
    const agent = new Agent({
      folder,
      hub,
      ...(values.enrol ? { enrolToken: values.enrol } : {}),
      identity: { hostId: host.hostId, hostname: host.hostname },
      keptHostId: kept,
      keyring: await keyringFrom(s.keyring?.map(at)),
      roots,
      intel: {
        bundled: !s['no-bundled'],
        packDirs: (s.pack ?? []).map(at),
        iocFiles: (s.ioc ?? []).map(at),
        yaraPaths: (s.yara ?? []).map(at),
        requireFresh: Boolean(s['require-fresh']),
      },
      scan: {
        paths: scanArgs.positionals.map(at),
        ...(imageRoot ? { imageRoot } : {}),
        excludes: s.exclude ?? [],
        allFiles: Boolean(s['all-files']),
        maxYaraBytes: parseSize('--max-yara-size', s['max-yara-size'] ?? '64M'),
        crossFilesystems: Boolean(s['cross-filesystems']),
        allowPseudoFs: Boolean(s['allow-pseudo-fs']),
        ...(threads ? { threads } : {}),
        yaraTimeoutMs: parseInteger('--yara-timeout', s['yara-timeout'] ?? '60', 1, 86_400) * 1000,
        yaraEngine,
        strict: Boolean(s.strict),
        toolVersion: TOOL_VERSION,
      },
      logs: (values.logs ?? []).map(at),
      spoolLimits: {
        maxReports: parseInteger('--spool-max-reports', values['spool-max-reports'] ?? '200', 1, 1_000_000),
        maxBytes: parseSize('--spool-max-bytes', values['spool-max-bytes'] ?? '256M'),
      },
      retry: {
        retries: parseInteger('--retries', values.retries ?? '5', 0, 1000),
        baseMs: parseDuration('--retry-base', values['retry-base'] ?? '1s'),
        capMs: parseDuration('--retry-cap', values['retry-cap'] ?? '5m'),
        maxRetryAfterMs: parseDuration('--max-retry-after', values['max-retry-after'] ?? '15m'),
        requestTimeoutMs: parseDuration('--timeout', values.timeout ?? '60s'),
      },
      toolVersion: TOOL_VERSION,
      log,
      onDiagnostics: (d) => printDiagnostics(io, d),
      stop: stop.signal,
    });
    for (let cycle = 1; ; cycle++) {
      let result: CycleResult | undefined;
      try {
        result = await agent.cycle();
      } catch (error) {
        if (!(error instanceof UserError) || every === undefined) throw error;
        log(`cycle ${cycle} failed: ${error.message}`);
        if (format === 'json') io.stdout.write(`${JSON.stringify({ cycle, error: error.message })}\n`);
      }
      if (result && format === 'json') io.stdout.write(`${JSON.stringify({ cycle, ...result })}\n`);
      if (result?.credentialRefused) {
        log(result.credentialRefused);
        return EXIT.usage;
      }
      if (every === undefined)
        return result?.reports.some((r) => r.result === 'lost') ? EXIT.output : EXIT.clean;
      if (stop.signal.aborted) return EXIT.clean;
      log(`next cycle at ${new Date(Date.now() + every).toISOString()}`);
      try {
        await sleep(every, undefined, { signal: stop.signal });
      } catch {
        return EXIT.clean;
      }
    }
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    releaseLock(folder.lock);
  }
}
