import { parseArgs } from 'node:util';
import type { CliIo } from 'chainsweep/cli/io.js';
import { UserError } from 'chainsweep/core/errors.js';
import { parseDbUrl, parseListen } from './cli-args.js';
import { jsonLineLog } from './http/request-log.js';
import { startHub } from './serve.js';

const DEFAULT_LISTEN = '127.0.0.1:8080';

/**
 * `chainsweep serve --data DIR [--listen HOST:PORT] [--db postgres://...]`: runs the hub until SIGTERM or
 * SIGINT, then shuts down gracefully. Prints `listening on http://HOST:PORT` on stderr once bound.
 */
export async function runServe(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { data: { type: 'string' }, listen: { type: 'string' }, db: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  if (!values.data) throw new UserError('USAGE', '--data DIR is required');
  const listen = parseListen(values.listen ?? DEFAULT_LISTEN);
  const postgresUrl = parseDbUrl(values.db);
  const hub = await startHub({
    store: { dataDir: values.data, ...(postgresUrl ? { postgresUrl } : {}) },
    ...listen,
    log: jsonLineLog(io.stderr),
  });
  io.stderr.write(`listening on ${hub.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  io.stderr.write('chainsweep: serve: shutting down\n');
  await hub.close();
  return 0;
}
