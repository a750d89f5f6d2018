import { UserError } from '../../core/errors.js';
import type { CliIo } from '../io.js';

/** What the hub workspace package exports to the CLI. */
interface HubModule {
  runHubCommand(command: 'serve' | 'hub', args: string[], io: CliIo): Promise<number>;
}

/** The hub's package name; loaded only by `serve` and `hub`, so scanner and agent installs never need it. */
const HUB_PACKAGE = '@chainsweep/hub';

/** `chainsweep serve ...` and `chainsweep hub ...`: run by the hub package, when it is installed. */
export async function runHub(command: 'serve' | 'hub', args: string[], io: CliIo): Promise<number> {
  let hub: HubModule;
  try {
    hub = (await import(HUB_PACKAGE)) as HubModule;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new UserError(
      'USAGE',
      `${command}: the hub is not installed here (install this repository with "npm ci", which includes the ${HUB_PACKAGE} workspace)`,
    );
  }
  return hub.runHubCommand(command, args, io);
}
