import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/** What a network indicator value is, once refanged and normalised. */
export type NetworkValue = { kind: 'domain' | 'ip' | 'url'; value: string };

const DOMAIN =
  /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/** Undoes common defanging: `a[.]com`, `a(.)com`, `a[dot]com`, `hxxp://`, `[:]//`. */
export function refang(value: string): string {
  return value
    .trim()
    .replace(/\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)/gi, '.')
    .replace(/\[:\]/g, ':')
    .replace(/^hxxp/i, 'http')
    .replace(/^fxp/i, 'ftp');
}

/** Recognises a domain, an IP address or CIDR range, or an http(s)/ftp URL; undefined for anything else. */
export function parseNetworkValue(raw: string): NetworkValue | undefined {
  const value = refang(raw);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    try {
      const url = new URL(value);
      if (!['http:', 'https:', 'ftp:'].includes(url.protocol) || !url.hostname) return undefined;
      return { kind: 'url', value: url.href };
    } catch {
      return undefined;
    }
  }
  const [address, prefix, extra] = value.split('/');
  if (address && extra === undefined && isIP(address.replace(/^\[|\]$/g, ''))) {
    const ip = address.replace(/^\[|\]$/g, '').toLowerCase();
    if (prefix === undefined) return { kind: 'ip', value: ip };
    const bits = Number(prefix);
    const max = isIP(ip) === 4 ? 32 : 128;
    return /^\d{1,3}$/.test(prefix) && bits <= max ? { kind: 'ip', value: `${ip}/${bits}` } : undefined;
  }
  const domain = domainToASCII(value.replace(/\.$/, '')).toLowerCase();
  return DOMAIN.test(domain) ? { kind: 'domain', value: domain } : undefined;
}
