import { randomUUID } from 'node:crypto';
import { arch, homedir, hostname, platform, release } from 'node:os';
import { parse, resolve } from 'node:path';
import { UserError } from '../../core/errors.js';
import { type Report, ReportSchema } from '../../core/report.js';
import { exitCodeFor } from '../../report/exit-code.js';
import { renderText } from '../../report/text.js';
import { checkImageRoot, takeInventory } from '../../scan/inventory.js';
import { parseChoice, parseCommandArgs, parseSeverity } from '../args.js';
import { loadIntelFor, PACK_OPTIONS } from '../intel-options.js';
import { type CliIo, useColor } from '../io.js';
import { checkOutputPath, writeOutput } from '../output.js';
import { TOOL_VERSION } from '../version.js';

export const INVENTORY_HELP = `Usage: chainsweep inventory [options]

Lists installed applications (every user profile, program folders, Uninstall keys, app bundles, package
databases) and gives each one a pack knows a verdict: affected, fixed, not-affected or unknown.

  --root DIR             DIR is the root of a mounted disk image (Windows, macOS or Linux; detected)
  --pack DIR             extra signed pack folder (repeatable); --no-bundled, --keyring FILE as for scan
  --all                  list every application found, not only those the packs know (text output)
  --format text|json     (default text); --output FILE; --fail-on SEVERITY (default low)
`;

const OPTIONS = {
  ...PACK_OPTIONS,
  root: { type: 'string' },
  all: { type: 'boolean' },
  format: { type: 'string' },
  output: { type: 'string' },
  'fail-on': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `chainsweep inventory`: what is installed, and what the packs say of it. */
export async function runInventory(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('inventory', args, OPTIONS);
  if (values.help) {
    io.stdout.write(INVENTORY_HELP);
    return 0;
  }
  if (positionals.length)
    throw new UserError('USAGE', 'inventory: takes no paths; use --root DIR for an image');
  const format = parseChoice('--format', values.format ?? 'text', ['text', 'json'] as const);
  const failOn = parseSeverity('--fail-on', values['fail-on'] ?? 'low');
  if (values.output) checkOutputPath(io, values.output); // refused before the inventory, not after it
  const at = (p: string) => resolve(io.cwd, p);
  const { intel } = await loadIntelFor(values, io);

  const startedAt = new Date();
  const imageRoot = values.root ? at(values.root) : undefined;
  if (imageRoot) checkImageRoot(imageRoot);
  const root = imageRoot ?? parse(homedir()).root;
  const result = await takeInventory(root, imageRoot === undefined, intel.apps);
  const finishedAt = new Date();
  const report: Report = {
    schemaVersion: 1,
    reportId: randomUUID(),
    tool: { name: 'chainsweep', version: TOOL_VERSION },
    command: 'inventory',
    host: { hostname: hostname(), os: platform(), osRelease: release(), arch: arch() },
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    outcome: result.coverage.some((c) => c.outcome === 'partial') ? 'partial' : 'complete',
    scope: { paths: [root], ...(imageRoot ? { imageRoot } : {}) },
    packs: intel.packs,
    coverage: result.coverage,
    inventory: { os: result.os, apps: result.apps, verdicts: result.verdicts },
    findings: result.findings,
    stats: {
      files: 0,
      bytes: 0,
      yaraFiles: 0,
      yaraBytes: 0,
      skipped: {},
      durationMs: finishedAt.getTime() - startedAt.getTime(),
    },
  };
  ReportSchema.parse(report);
  const text =
    format === 'json'
      ? `${JSON.stringify(report, null, 2)}\n`
      : renderText(report, {
          color: !values.output && useColor(io, io.stdout),
          listApps: Boolean(values.all),
        });
  await writeOutput(io, values.output, text);
  return exitCodeFor(report, failOn);
}
