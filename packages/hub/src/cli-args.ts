import { isIP } from 'node:net';
import { UserError } from 'chainsweep/core/errors.js';

/** A `--listen` value, `HOST:PORT` or `[IPv6]:PORT`; port 0 picks a free one. */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535)
    throw new UserError(
      'USAGE',
      `--listen ${JSON.stringify(value)}: expected HOST:PORT, e.g. 127.0.0.1:8080`,
    );
  return { host: match[1] ?? match[2] ?? '', port };
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A duration such as `90s`, `30m`, `12h`, `7d`, `2w`, in milliseconds. */
export function parseDuration(option: string, value: string): number {
  const match = /^(\d{1,6})([smhdw])$/.exec(value);
  if (!match?.[1] || !match[2] || Number(match[1]) === 0)
    throw new UserError(
      'USAGE',
      `${option} ${JSON.stringify(value)}: expected a duration such as 30m, 12h or 7d`,
    );
  return Number(match[1]) * (UNIT_MS[match[2]] ?? 0);
}

/** A PostgreSQL URL for `--db`. */
export function parseDbUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^postgres(ql)?:\/\//.test(value))
    throw new UserError(
      'USAGE',
      '--db: expected a postgres:// URL (without --db the store is SQLite in --data)',
    );
  return value;
}

/** `--trust-proxy` values: IP addresses, each given once or as a comma-separated list. */
export function parseProxies(values: readonly string[]): string[] {
  const addresses = values.flatMap((value) => value.split(',').map((a) => a.trim()));
  for (const address of addresses)
    if (!isIP(address))
      throw new UserError('USAGE', `--trust-proxy ${JSON.stringify(address)}: expected an IP address`);
  return addresses;
}

/** A `--public-url`: an absolute http or https URL without credentials, query or fragment; no trailing slash. */
export function parsePublicUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (
    !url ||
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.username ||
    url.password ||
    url.search ||
    url.hash
  )
    throw new UserError(
      'USAGE',
      `--public-url ${JSON.stringify(value)}: expected the hub's address as readers reach it, e.g. https://hub.example.com`,
    );
  return url.href.replace(/\/+$/, '');
}
