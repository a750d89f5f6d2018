import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UserError } from '../core/errors.js';
import { type Severity, SeveritySchema } from '../core/severity.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
>;

/** Parses a command's arguments strictly; any unknown or malformed option is a one-line usage error. */
export function parseCommandArgs<T extends Options>(command: string, args: string[], options: T): Parsed<T> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UserError(
      'USAGE',
      `${command}: ${(error as Error).message.split('\n')[0]} (see chainsweep ${command} --help)`,
    );
  }
}

/** `64M`, `1G`, `4096` -> bytes. */
export function parseSize(option: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!match)
    throw new UserError('USAGE', `${option}: ${JSON.stringify(text)} is not a size (like 64M or 1G)`);
  const power = ['', 'k', 'm', 'g', 't'].indexOf((match[2] ?? '').toLowerCase());
  const bytes = Math.floor(Number(match[1]) * 1024 ** power);
  if (bytes < 1) throw new UserError('USAGE', `${option}: must be at least 1 byte`);
  return bytes;
}

/** A whole number within bounds. */
export function parseInteger(option: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UserError(
      'USAGE',
      `${option}: ${JSON.stringify(text)} must be a whole number from ${min} to ${max}`,
    );
  }
  return value;
}

export function parseSeverity(option: string, text: string): Severity {
  const parsed = SeveritySchema.safeParse(text.toLowerCase());
  if (!parsed.success) {
    throw new UserError(
      'USAGE',
      `${option}: ${JSON.stringify(text)} is not one of ${SeveritySchema.options.join(', ')}`,
    );
  }
  return parsed.data;
}

export function parseChoice<const C extends string>(option: string, text: string, choices: readonly C[]): C {
  const found = choices.find((c) => c === text);
  if (!found)
    throw new UserError('USAGE', `${option}: ${JSON.stringify(text)} is not one of ${choices.join(', ')}`);
  return found;
}
