import { ChainsweepError, UserError } from '../core/errors.js';
import { EXIT } from '../report/exit-code.js';
import { runHunt } from './commands/hunt.js';
import { runInventory } from './commands/inventory.js';
import { runPacks } from './commands/packs.js';
import { runQuarantine } from './commands/quarantine.js';
import { runRemediate } from './commands/remediate.js';
import { runScan } from './commands/scan.js';
import type { CliIo } from './io.js';
import { TOOL_VERSION } from './version.js';

const HELP = `chainsweep ${TOOL_VERSION}: find, hunt and remove trojanized vendor software

Usage: chainsweep <command> [options]

Commands:
  scan [PATH...]     sweep files with hash, file name and YARA signatures
  hunt [LOG...]      find the machines that contacted C2 in DNS, proxy, Zeek, Suricata and Sysmon logs
  inventory          list installed applications and the packs' verdicts on them
  remediate          plan (default) or apply the removal of affected installs, into a quarantine
  quarantine         list quarantine entries, restore one
  packs ...          make, sign, verify and list signature packs
  version            print the version

Run "chainsweep <command> --help" for a command's options.
`;

/** Runs one command line and returns the exit code; never calls process.exit. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'scan':
        return await runScan(args, io);
      case 'packs':
        return await runPacks(args, io);
      case 'inventory':
        return await runInventory(args, io);
      case 'hunt':
        return await runHunt(args, io);
      case 'remediate':
        return await runRemediate(args, io);
      case 'quarantine':
        return await runQuarantine(args, io);
      case 'version':
      case '--version':
        io.stdout.write(`${TOOL_VERSION}\n`);
        return EXIT.clean;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(HELP);
        return command === undefined ? EXIT.usage : EXIT.clean;
      default:
        throw new UserError('USAGE', `unknown command ${JSON.stringify(command)} (see chainsweep --help)`);
    }
  } catch (error) {
    if (error instanceof UserError) {
      io.stderr.write(`chainsweep: ${error.message}\n`);
      return EXIT.usage;
    }
    const detail =
      error instanceof ChainsweepError
        ? error.message
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error);
    io.stderr.write(`chainsweep: internal error: ${detail}\n`);
    return EXIT.internal;
  }
}
