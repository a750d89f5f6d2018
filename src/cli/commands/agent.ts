import { UserError } from '../../core/errors.js';
import type { CliIo } from '../io.js';

/** `chainsweep agent`: enrol, update packs, scan, hunt, upload. */
export async function runAgent(_args: string[], _io: CliIo): Promise<number> {
  throw new UserError('USAGE', 'agent: not built yet');
}
