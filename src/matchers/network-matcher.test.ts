import { describe, expect, it } from 'vitest';
import type { PackedIndicator } from '../core/intel.js';
import { NetworkMatcher } from './network-matcher.js';

const ind = (kind: 'domain' | 'url' | 'ip', value: string): PackedIndicator => ({
  id: `${kind}:${value}`,
  kind,
  value,
  title: value,
  severity: 'high',
  confidence: 'high',
  references: [],
  packId: 'p',
});
const matcher = new NetworkMatcher([
  ind('domain', 'akamaicontainer.com'),
  ind('domain', 'apollo-crypto.org.shilaerc20.com'),
  ind('url', 'https://raw.githubusercontent.com/IconStorages/images/main/'),
  ind('url', 'https://sbmsa.wiki/blog/_insert'),
  ind('ip', '185.38.151.11'),
  ind('ip', '10.20.0.0/16'),
  ind('ip', '2001:db8::/32'),
  ind('ip', '2001:db9::1'),
]);
const ids = (hits: { indicator: PackedIndicator }[]) => hits.map((h) => h.indicator.value);

describe('NetworkMatcher', () => {
  it.each([
    ['akamaicontainer.com', ['akamaicontainer.com']],
    ['X.AkamaiContainer.COM.', ['akamaicontainer.com']],
    ['notakamaicontainer.com', []],
    ['akamaicontainer.com.evil.net', []],
    ['apollo-crypto.org.shilaerc20.com', ['apollo-crypto.org.shilaerc20.com']],
    ['shilaerc20.com', []],
  ])('domain %s', (host, expected) => expect(ids(matcher.matchDomain(host))).toEqual(expected));

  it.each([
    [
      'http://raw.githubusercontent.com/IconStorages/images/main/icon3.ico',
      ['https://raw.githubusercontent.com/IconStorages/images/main/'],
    ],
    [
      'https://raw.githubusercontent.com/iconstorages/images/main/',
      ['https://raw.githubusercontent.com/IconStorages/images/main/'],
    ],
    ['https://raw.githubusercontent.com/someone/else/main/x', []],
    ['sbmsa.wiki/blog/_insert?x=1', ['https://sbmsa.wiki/blog/_insert']],
    ['https://sbmsa.wiki/other', []],
    ['http://sub.akamaicontainer.com/anything', ['akamaicontainer.com']],
  ])('url %s', (url, expected) => expect(ids(matcher.matchUrl(url))).toEqual(expected));

  it.each([
    ['185.38.151.11', ['185.38.151.11']],
    ['185.38.151.12', []],
    ['10.20.255.1', ['10.20.0.0/16']],
    ['10.21.0.1', []],
    ['2001:db8:ffff::1', ['2001:db8::/32']],
    ['2001:DB9:0:0::1', ['2001:db9::1']],
    ['[2001:db9::1]', ['2001:db9::1']],
    ['not-an-ip', []],
  ])('ip %s', (ip, expected) => expect(ids(matcher.matchIp(ip))).toEqual(expected));

  it('flags hosts worth reading a record for, but not a URL host alone as a hit', () => {
    expect(matcher.hostOfInterest('raw.githubusercontent.com')).toBe(true);
    expect(matcher.matchDomain('raw.githubusercontent.com')).toEqual([]);
    expect(matcher.hostOfInterest('www.example.com')).toBe(false);
  });
});
