import { resolve } from 'node:path';
import { UserError } from '../../core/errors.js';
import { defaultQuarantineDir, QuarantineStore } from '../../remediate/quarantine.js';
import { parseChoice, parseCommandArgs } from '../args.js';
import type { CliIo } from '../io.js';

export const QUARANTINE_HELP = `Usage: chainsweep quarantine list | restore ID [--quarantine DIR] [--format text|json]

  list                   entries in the quarantine, newest first
  restore ID             put an entry's files, folders and links back, byte for byte, with owner, mode and
                         times; items whose journal line or stored copy does not authenticate with the
                         quarantine key are refused (exit 3) and stay in quarantine
`;

/** `chainsweep quarantine list|restore`. */
export async function runQuarantine(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('quarantine', args, {
    quarantine: { type: 'string' },
    format: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  const [sub, id, ...extra] = positionals;
  if (values.help || !sub) {
    io.stdout.write(QUARANTINE_HELP);
    return values.help ? 0 : 2;
  }
  const store = new QuarantineStore(
    values.quarantine ? resolve(io.cwd, values.quarantine) : defaultQuarantineDir(),
  );
  const format = parseChoice('--format', values.format ?? 'text', ['text', 'json'] as const);
  if (sub === 'list' && !id) {
    const entries = store.list();
    if (format === 'json') io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    else if (entries.length === 0) io.stdout.write(`quarantine ${store.dir} is empty\n`);
    else {
      for (const e of entries) {
        if (e.status === 'unreadable') {
          io.stdout.write(`${e.id}  unreadable: ${e.problem ?? ''}\n`);
          continue;
        }
        const bytes = e.items.reduce((n, i) => n + (i.size ?? 0), 0);
        io.stdout.write(
          `${e.id}  ${e.status.padEnd(10)} ${e.items.length} items, ${bytes} bytes  ${e.reason.split('\n')[0]}${e.problem ? ` (${e.problem})` : ''}\n`,
        );
      }
    }
    return 0;
  }
  if (sub === 'restore' && id && extra.length === 0) {
    const result = store.restore(id);
    for (const r of result.refused) io.stderr.write(`quarantine: refused ${r.path}: ${r.reason}\n`);
    io.stdout.write(
      `restored ${result.restored} items of ${id}${result.alreadyInPlace ? ` (${result.alreadyInPlace} were already in place)` : ''}${result.refused.length ? `; ${result.refused.length} refused, kept in quarantine` : ''}\n`,
    );
    return result.refused.length ? 3 : 0;
  }
  throw new UserError('USAGE', 'quarantine: use "list" or "restore ID" (see chainsweep quarantine --help)');
}
