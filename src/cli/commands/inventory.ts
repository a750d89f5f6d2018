import { homedir } from 'node:os';
import { parse, resolve } from 'node:path';
import { UserError } from '../../core/errors.js';
import { ReportSchema } from '../../core/report.js';
import { exitCodeFor } from '../../report/exit-code.js';
import { renderText } from '../../report/text.js';
import { ReportBuilder } from '../../scan/build-report.js';
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

  const imageRoot = values.root ? at(values.root) : undefined;
  if (imageRoot) checkImageRoot(imageRoot);
  const builder = await ReportBuilder.begin({
    command: 'inventory',
    toolVersion: TOOL_VERSION,
    ...(imageRoot ? { imageRoot } : {}),
  });
  const root = imageRoot ?? parse(homedir()).root;
  const result = await takeInventory(root, imageRoot === undefined, intel.apps);
  const report = builder.finish({
    scope: { paths: [root], ...(imageRoot ? { imageRoot } : {}) },
    packs: intel.packs,
    coverage: result.coverage,
    inventory: { os: result.os, apps: result.apps, verdicts: result.verdicts },
    findings: result.findings,
  });
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
