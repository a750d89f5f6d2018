import { isIP } from 'node:net';

/** An IP address in one canonical text (IPv6 compressed, lower case), or undefined when `value` is not one. */
export function canonicalAddress(value: string): string | undefined {
  let text = value.trim();
  if (text.startsWith('[') && text.includes(']')) text = text.slice(1, text.indexOf(']'));
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(text)) text = text.slice(0, text.lastIndexOf(':'));
  const family = isIP(text);
  if (family === 4) return text;
  if (family === 6) {
    const zone = text.indexOf('%');
    return new URL(`http://[${zone < 0 ? text : text.slice(0, zone)}]`).hostname.slice(1, -1);
  }
  return undefined;
}

/** A host name as compared: lower case, no trailing dot. */
export function nameKey(value: string): string {
  return value.trim().toLowerCase().replace(/\.$/, '');
}
