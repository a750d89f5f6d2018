import { ChainsweepError, UserError } from '../core/errors.js';
import { EXIT } from '../report/exit-code.js';
import { runAgent } from './commands/agent.js';
import { runHub } from './commands/hub.js';
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
  agent              enrol with a hub, keep packs current, scan and hunt on a schedule, upload the reports
  serve              run the hub: fleet reports, retro-hunt, pack feed (SQLite in --data, or PostgreSQL)
  hub ...            administer a hub's store: organisations, users, tokens
  version            print the version

Run "chainsweep <command> --help" for a command's options.
`;

/**
 * Runs one command line and returns the exit code; never calls process.exit. Standard output that cannot be
 * written (a closed pipe, a full disk) is one line on stderr and exit 74, whatever the command would have said.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let stdoutError: Error | undefined;
  const onStdoutError = (error: Error) => {
    stdoutError ??= error;
  };
  // Kept for the life of the process: a write that fails may report its error after the command returned.
  io.stdout.on('error', onStdoutError);
  const code = await run(argv, io, () => stdoutError !== undefined);
  await new Promise<void>((flushed) => io.stdout.write('', () => flushed()));
  if (!stdoutError) return code;
  io.stderr.write(`chainsweep: cannot write the output to standard output: ${stdoutError.message}\n`);
  return EXIT.output;
}

async function run(argv: string[], io: CliIo, stdoutFailed: () => boolean): Promise<number> {
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
      case 'agent':
        return await runAgent(args, io);
      case 'serve':
      case 'hub':
        return await runHub(command, args, io);
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
    if (error instanceof ChainsweepError && error.code === 'OUTPUT') {
      if (!stdoutFailed()) io.stderr.write(`chainsweep: ${error.message}\n`); // else runCli says it, once
      return EXIT.output;
    }
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
