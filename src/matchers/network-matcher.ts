import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import type { PackedIndicator } from '../core/intel.js';
import { parseNetworkValue, refang } from '../core/network-value.js';

/** What a log value matched, and how. */
export interface NetworkHit {
  indicator: PackedIndicator;
  /** The value as seen in the log, normalised. */
  seen: string;
}

/**
 * Domain, URL and IP indicators compiled for log hunting. Domains match themselves and their subdomains
 * (x.akamaicontainer.com yes, notakamaicontainer.com no), case-insensitively, trailing dot ignored, IDN as
 * punycode; URLs match by host and path prefix whatever the scheme; IPs by address or CIDR range.
 */
export class NetworkMatcher {
  private readonly domains = new Map<string, PackedIndicator[]>();
  private readonly urls = new Map<string, { prefix: string; indicator: PackedIndicator }[]>();
  private readonly ips = new Map<string, PackedIndicator[]>();
  private readonly v4Ranges: { base: number; mask: number; indicator: PackedIndicator }[] = [];
  private readonly v6Ranges: { base: bigint; mask: bigint; indicator: PackedIndicator }[] = [];
  /** The last two labels of every domain indicator and URL host: a cheap first test for log tokens. */
  private readonly tails = new Set<string>();

  constructor(indicators: readonly PackedIndicator[]) {
    for (const indicator of indicators) {
      if (indicator.kind !== 'domain' && indicator.kind !== 'url' && indicator.kind !== 'ip') continue;
      const parsed = parseNetworkValue(indicator.value);
      if (!parsed) continue;
      if (parsed.kind === 'domain') {
        push(this.domains, parsed.value, indicator);
        this.tails.add(lastTwoLabels(parsed.value));
      } else if (parsed.kind === 'url') {
        const url = new URL(parsed.value);
        const host = normaliseHost(url.hostname);
        const prefix = `${url.pathname}${url.search}`.toLowerCase();
        this.tails.add(lastTwoLabels(host));
        const list = this.urls.get(host) ?? [];
        list.push({ prefix: prefix === '/' ? '' : prefix, indicator });
        this.urls.set(host, list);
      } else this.addIp(parsed.value, indicator);
    }
  }

  /** True when there is nothing to look for. */
  get empty(): boolean {
    return (
      this.domains.size + this.urls.size + this.ips.size + this.v4Ranges.length + this.v6Ranges.length === 0
    );
  }

  /** True when IP indicators exist, so logs are worth searching for addresses at all. */
  get hasIps(): boolean {
    return this.ips.size + this.v4Ranges.length + this.v6Ranges.length > 0;
  }

  /** True when `host`, or a parent domain of it, is a domain indicator or a URL indicator's host. */
  hostOfInterest(host: string): boolean {
    if (!this.tails.has(lastTwoLabels(host).toLowerCase())) return false;
    const h = normaliseHost(host);
    for (let i = 0; i >= 0 && i < h.length; i = nextLabel(h, i)) {
      const suffix = i === 0 ? h : h.slice(i);
      if (this.domains.has(suffix)) return true;
    }
    return this.urls.has(h);
  }

  /** Domain indicators that `host` is, or is below. */
  matchDomain(host: string): NetworkHit[] {
    const h = normaliseHost(host);
    const hits: NetworkHit[] = [];
    for (let i = 0; i >= 0 && i < h.length; i = nextLabel(h, i)) {
      for (const indicator of this.domains.get(i === 0 ? h : h.slice(i)) ?? [])
        hits.push({ indicator, seen: h });
    }
    return hits;
  }

  /** URL indicators with this URL's host and a path prefix of it; domain indicators for its host too. */
  matchUrl(raw: string): NetworkHit[] {
    let url: URL;
    try {
      url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
    } catch {
      return [];
    }
    const host = normaliseHost(url.hostname);
    const path = `${url.pathname}${url.search}`.toLowerCase();
    const hits = this.matchDomain(host);
    for (const { prefix, indicator } of this.urls.get(host) ?? []) {
      if (path.startsWith(prefix)) hits.push({ indicator, seen: url.href });
    }
    return hits;
  }

  /** IP indicators equal to, or ranges containing, `address`. */
  matchIp(address: string): NetworkHit[] {
    const ip = address.replace(/^\[|\]$/g, '').toLowerCase();
    const version = isIP(ip);
    if (!version) return [];
    const hits = (this.ips.get(normaliseIp(ip)) ?? []).map((indicator) => ({ indicator, seen: ip }));
    if (version === 4) {
      const n = v4ToInt(ip);
      for (const r of this.v4Ranges)
        if ((n & r.mask) >>> 0 === r.base) hits.push({ indicator: r.indicator, seen: ip });
    } else {
      const n = v6ToBigInt(ip);
      for (const r of this.v6Ranges)
        if ((n & r.mask) === r.base) hits.push({ indicator: r.indicator, seen: ip });
    }
    return hits;
  }

  private addIp(value: string, indicator: PackedIndicator): void {
    const [address = '', bits] = value.split('/');
    if (bits === undefined) {
      push(this.ips, normaliseIp(address), indicator);
      return;
    }
    const prefix = Number(bits);
    if (isIP(address) === 4) {
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      this.v4Ranges.push({ base: (v4ToInt(address) & mask) >>> 0, mask, indicator });
    } else {
      const mask = prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
      this.v6Ranges.push({ base: v6ToBigInt(address) & mask, mask, indicator });
    }
  }
}

/** Lower case, no trailing dot, IDN as punycode, defanging undone. */
export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.includes('[') || h.includes('(')) h = refang(h);
  if (h.endsWith('.')) h = h.slice(0, -1);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is the ASCII set
  if (/[^\x00-\x7f]/.test(h)) h = domainToASCII(h) || h;
  return h;
}

/** `b.c` of `a.b.c` (a trailing dot ignored). */
function lastTwoLabels(host: string): string {
  const end = host.endsWith('.') ? host.length - 1 : host.length;
  const last = host.lastIndexOf('.', end - 1);
  const previous = last > 0 ? host.lastIndexOf('.', last - 1) : -1;
  return host.slice(previous + 1, end);
}

function nextLabel(host: string, from: number): number {
  const dot = host.indexOf('.', from);
  return dot < 0 ? -1 : dot + 1;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function normaliseIp(ip: string): string {
  return isIP(ip) === 6 ? v6ToBigInt(ip).toString(16) : ip;
}

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}

function v6ToBigInt(ip: string): bigint {
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = v4ToInt(v4[1]);
    text = text.replace(v4[1], `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`);
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g || '0', 16)), 0n);
}
