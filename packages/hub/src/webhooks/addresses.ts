import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, isIPv4 } from 'node:net';

/** IPv4 ranges no webhook may reach unless private addresses are allowed (RFC 6890 special-purpose and more). */
const V4_BLOCKED: readonly [string, number][] = [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches the local host
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

/** IPv6 ranges refused the same way; IPv4 embedded in IPv6 (mapped, NAT64, 6to4) is judged by its IPv4. */
const V6_BLOCKED: readonly [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo and others)
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // old site-local
  ['ff00::', 8], // multicast
];

const BLOCKED = new BlockList();
for (const [net, prefix] of V4_BLOCKED) BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of V6_BLOCKED) BLOCKED.addSubnet(net, prefix, 'ipv6');

/** Whether an IP address (v4 or v6 text) is on the public internet; false for anything else, or not an address. */
export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  if (isIPv4(bare)) return !BLOCKED.check(bare, 'ipv4');
  if (isIP(bare) !== 6) return false;
  const words = ipv6Words(bare);
  if (!words) return false;
  const embedded = embeddedIpv4(words);
  if (embedded !== undefined) return isPublicAddress(embedded);
  return !BLOCKED.check(bare, 'ipv6');
}

/** An error for an endpoint address the settings refuse. */
export class RefusedAddressError extends Error {
  readonly code = 'ADDRESS_REFUSED';
  constructor(host: string, address: string) {
    super(
      host === address
        ? `${address} is not a public address`
        : `${host} resolves to ${address}, which is not a public address`,
    );
  }
}

/** The addresses a host name resolves to, every one public unless `allowPrivate`: RefusedAddressError otherwise. */
export async function resolvePublic(host: string, allowPrivate: boolean): Promise<LookupAddress[]> {
  const bare = host.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  const addresses = family !== 0 ? [{ address: bare, family }] : await lookupAll(bare);
  if (!allowPrivate)
    for (const one of addresses)
      if (!isPublicAddress(one.address)) throw new RefusedAddressError(bare, one.address);
  return addresses;
}

/**
 * Name lookups (getaddrinfo, on libuv's thread pool of 4) in flight at once: a slow DNS server behind a hostile
 * endpoint can hold at most these threads, never the pool that password hashing and file reads also need.
 */
export const MAX_LOOKUPS = 2;
let lookups = 0;
const queued: (() => void)[] = [];

/** Every address of a name, in the resolver's order, with at most MAX_LOOKUPS lookups running. */
async function lookupAll(host: string): Promise<LookupAddress[]> {
  // A finished lookup hands its slot straight to the next one waiting, so no newcomer slips in between.
  if (lookups >= MAX_LOOKUPS) await new Promise<void>((resolve) => queued.push(resolve));
  else lookups += 1;
  try {
    return await new Promise<LookupAddress[]>((resolve, reject) =>
      dnsLookup(host, { all: true, verbatim: true }, (error, found) =>
        error ? reject(error) : resolve(found),
      ),
    );
  } finally {
    const next = queued.shift();
    if (next) next();
    else lookups -= 1;
  }
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for `net.connect` / `https.request` that resolves the name once, refuses it when any address is
 * not public (unless `allowPrivate`), and hands the socket exactly the addresses it checked: no second
 * resolution between the check and the connection. (A literal IP never reaches `lookup`: check it first.)
 */
export function checkedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    resolvePublic(hostname, allowPrivate).then(
      (addresses) => {
        const first = addresses[0];
        if (!first)
          return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
        if (options.all) callback(null, addresses);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}

/** The eight 16-bit words of an IPv6 address, or undefined when it is not one. */
function ipv6Words(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail?.[1]) {
    if (!isIPv4(tail[1])) return undefined;
    const [a, b, c, d] = tail[1].split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -tail[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined) =>
    part ? part.split(':').map((w) => Number.parseInt(w, 16)) : [];
  const head = parse(halves[0]);
  const rest = parse(halves[1]);
  const fill = halves.length === 2 ? 8 - head.length - rest.length : 0;
  const words = [...head, ...new Array<number>(Math.max(fill, 0)).fill(0), ...rest];
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff)
    ? words
    : undefined;
}

/** The IPv4 address inside an IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address. */
function embeddedIpv4(w: number[]): string | undefined {
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zeros = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && w[5] === 0xffff) return v4(w[6] as number, w[7] as number);
  if (zeros(0, 6) && ((w[6] as number) !== 0 || (w[7] as number) > 1))
    return v4(w[6] as number, w[7] as number);
  if (w[0] === 0x64 && w[1] === 0xff9b && zeros(2, 6)) return v4(w[6] as number, w[7] as number);
  if (w[0] === 0x2002) return v4(w[1] as number, w[2] as number);
  return undefined;
}
