import { isIP } from 'node:net';
import type { Context } from 'hono';
import type { HubEnv } from './hub-env.js';

/** What the hub knows of a request's client: its address (for rate limits) and whether it used https. */
export interface ClientView {
  address(c: Context<HubEnv>): string;
  https(c: Context<HubEnv>): boolean;
}

const plain = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');

function socketPeer(c: Context<HubEnv>): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  const address = env?.incoming?.socket?.remoteAddress;
  return address === undefined ? undefined : plain(address);
}

/** The TCP peer, and the request URL's scheme: a hub that clients reach directly. */
export const directClient: ClientView = {
  address: (c) => socketPeer(c) ?? 'unknown',
  https: (c) => new URL(c.req.url).protocol === 'https:',
};

/**
 * Behind reverse proxies at `trusted` addresses: a request from one of them is from the last address in
 * `X-Forwarded-For` that is not a trusted proxy, over https when `X-Forwarded-Proto` says so. A request from
 * anywhere else is judged directly, so a client cannot forge its address by sending the headers itself.
 */
export function proxiedClient(trusted: readonly string[]): ClientView {
  const proxies = new Set(trusted.map(plain));
  const fromProxy = (c: Context<HubEnv>) => proxies.has(socketPeer(c) ?? '');
  return {
    address: (c) => {
      if (!fromProxy(c)) return directClient.address(c);
      const hops = (c.req.header('x-forwarded-for') ?? '').split(',').map((hop) => plain(hop.trim()));
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = hops[i] ?? '';
        if (isIP(hop) && !proxies.has(hop)) return hop;
      }
      return directClient.address(c);
    },
    https: (c) =>
      fromProxy(c)
        ? /^https$/i.test((c.req.header('x-forwarded-proto') ?? '').split(',')[0]?.trim() ?? '')
        : directClient.https(c),
  };
}
