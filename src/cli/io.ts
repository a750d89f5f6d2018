/** The streams and environment a command runs with; tests pass their own. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Writes a line to stderr, prefixed with the tool's name. */
export function logLine(io: CliIo, message: string): void {
  io.stderr.write(`chainsweep: ${message}\n`);
}

/** Colours only on a terminal, and never when NO_COLOR is set. */
export function useColor(io: CliIo, stream: { isTTY?: boolean }): boolean {
  return Boolean(stream.isTTY) && !io.env.NO_COLOR;
}
