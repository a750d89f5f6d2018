import { homedir } from 'node:os';
import { parse, resolve } from 'node:path';
import { UserError } from '../../core/errors.js';
import { type PlanItem, planRemediation } from '../../remediate/plan.js';
import { defaultQuarantineDir, QuarantineStore } from '../../remediate/quarantine.js';
import { checkImageRoot, takeInventory } from '../../scan/inventory.js';
import { parseChoice, parseCommandArgs } from '../args.js';
import { loadIntelFor, PACK_OPTIONS } from '../intel-options.js';
import type { CliIo } from '../io.js';
import { writeOutput } from '../output.js';

export const REMEDIATE_HELP = `Usage: chainsweep remediate [--plan | --apply] [options]

Finds every install the packs call affected and says what removing it takes: the install folder or bundle
and what the app leaves behind (support folders, shortcuts, launch agents) go to quarantine; uninstall
commands, registry keys and package upgrades are listed to run. --apply moves the files into the quarantine
(never deletes them); "chainsweep quarantine restore ID" puts them back byte for byte.

  --plan                 show the plan (the default)
  --apply                quarantine the planned files
  --root DIR             work on a mounted disk image instead of this machine
  --quarantine DIR       quarantine folder (default: ${defaultQuarantineDir()})
  --pack DIR, --no-bundled, --keyring FILE   as for scan
  --format text|json     (default text)
`;

const OPTIONS = {
  ...PACK_OPTIONS,
  plan: { type: 'boolean' },
  apply: { type: 'boolean' },
  root: { type: 'string' },
  quarantine: { type: 'string' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `chainsweep remediate`: plan, or apply, the removal of affected installs. */
export async function runRemediate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('remediate', args, OPTIONS);
  if (values.help) {
    io.stdout.write(REMEDIATE_HELP);
    return 0;
  }
  if (positionals.length)
    throw new UserError('USAGE', 'remediate: takes no paths; use --root DIR for an image');
  if (values.plan && values.apply)
    throw new UserError('USAGE', 'remediate: choose --plan or --apply, not both');
  const format = parseChoice('--format', values.format ?? 'text', ['text', 'json'] as const);
  const at = (p: string) => resolve(io.cwd, p);
  const { intel } = await loadIntelFor(values, io);
  const imageRoot = values.root ? at(values.root) : undefined;
  if (imageRoot) checkImageRoot(imageRoot);
  const root = imageRoot ?? parse(homedir()).root;
  const inventory = await takeInventory(root, imageRoot === undefined, intel.apps);
  const plan = planRemediation(inventory, intel.apps, root);

  if (!values.apply) {
    await writeOutput(
      io,
      undefined,
      format === 'json' ? `${JSON.stringify({ root, plan }, null, 2)}\n` : renderPlan(plan),
    );
    return plan.length ? 1 : 0;
  }

  const store = new QuarantineStore(values.quarantine ? at(values.quarantine) : defaultQuarantineDir());
  const targets = plan.flatMap((item) =>
    item.steps
      .filter((s) => s.action === 'quarantine')
      .map((s) => ({ path: s.target, ...(s.dev && s.ino ? { dev: s.dev, ino: s.ino } : {}) })),
  );
  if (targets.length === 0) {
    io.stdout.write(plan.length ? renderPlan(plan) : 'Nothing to remove.\n');
    return plan.some((i) => i.refused.length) ? 3 : 0;
  }
  const writer = store.begin(
    plan.map((i) => `${i.productId}: ${i.title}`).join('\n'),
    root,
    targets.map((t) => t.path),
  );
  for (const target of targets) writer.add(target);
  const status = writer.finish();
  const moved = writer.items.length;
  const summary = {
    quarantine: {
      dir: store.dir,
      id: writer.id,
      status,
      items: moved,
      leftInPlace: writer.leftInPlace,
      notes: writer.notes,
    },
    plan,
  };
  if (format === 'json') io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    io.stdout.write(renderPlan(plan));
    io.stdout.write(`Quarantined ${moved} files, folders and links as entry ${writer.id} in ${store.dir}\n`);
    for (const left of writer.leftInPlace)
      io.stdout.write(`  left in place: ${left.path}: ${left.message}\n`);
    for (const note of writer.notes) io.stdout.write(`  note: ${note.path}: ${note.message}\n`);
    if (writer.journalError)
      io.stdout.write(
        `  the journal could not be written (${writer.journalError}): nothing more was moved\n`,
      );
    if (moved)
      io.stdout.write(
        `Undo with: chainsweep quarantine restore ${writer.id}${values.quarantine ? ` --quarantine ${values.quarantine}` : ''}\n`,
      );
  }
  return writer.leftInPlace.length || plan.some((i) => i.refused.length) ? 3 : 0;
}

function renderPlan(plan: PlanItem[]): string {
  if (plan.length === 0) return 'No affected installs: nothing to remove.\n';
  const lines: string[] = [];
  for (const item of plan) {
    const app = item.apps[0];
    lines.push(
      `${item.title}`,
      `  ${app?.name} ${app?.version}${app?.user ? `, user ${app.user}` : ''} (${item.apps.map((a) => a.source).join(', ')})`,
    );
    for (const step of item.steps)
      lines.push(`  ${step.action.padEnd(10)} ${step.target}${step.note ? `   # ${step.note}` : ''}`);
    for (const r of item.refused) lines.push(`  REFUSED    ${r.path}   # ${r.reason}`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
