import { describe, expect, it } from 'vitest';
import { parseNetworkValue } from '../core/network-value.js';
import { toJsRegex } from '../core/regex-safety.js';
import { iocListKindFromName, parseIocList } from './ioc-list.js';

const SHA256 = '7986bbaee8940da11ce089383521ab420c443ab7b15ed42aed91fd31ce833896';

describe('parseIocList', () => {
  it('reads Loki hash lists: HASH;COMMENT, HASH;SCORE;COMMENT, bare hashes and sha256sum lines', () => {
    const text = [
      '# 3CX compromise',
      `${SHA256};ffmpeg.dll trojanized`,
      'bf939c9c261d27ee7bb92325cc588624fca75429;40;low score sample',
      '74BC2D0B6680FAA1A5A76B27E5479CBC',
      `${'c'.repeat(64)}  3CXDesktopApp.exe`,
    ].join('\n');
    const { indicators, diagnostics } = parseIocList(text, '/x/hash-iocs.txt', 'hash');
    expect(diagnostics).toEqual([]);
    expect(indicators.map((i) => [i.kind, i.value, i.title, i.severity])).toEqual([
      ['sha256', SHA256, 'ffmpeg.dll trojanized', 'high'],
      ['sha1', 'bf939c9c261d27ee7bb92325cc588624fca75429', 'low score sample', 'low'],
      ['md5', '74bc2d0b6680faa1a5a76b27e5479cbc', '3CX compromise', 'high'],
      ['sha256', 'c'.repeat(64), '3CXDesktopApp.exe', 'high'],
    ]);
    expect(indicators[0]?.id).toBe('local:hash-iocs.txt:2');
  });

  it('reports malformed lines with their line numbers and loads the rest', () => {
    const text = `${SHA256};good\nnot-a-hash;comment\n\n${'a'.repeat(63)};short\n${'b'.repeat(40)};ok`;
    const { indicators, diagnostics } = parseIocList(text, 'hashes.txt', 'hash');
    expect(indicators).toHaveLength(2);
    expect(diagnostics.map((d) => [d.line, d.level])).toEqual([
      [2, 'error'],
      [4, 'error'],
    ]);
    expect(diagnostics[0]?.message).toContain('"not-a-hash"');
  });

  it('reads Loki filename lists: REGEX;SCORE;FALSE_POSITIVE_REGEX', () => {
    const text =
      '# Gopuram\n\\\\Windows\\\\System32\\\\wlbsctrl\\.dll;80\n(?i)\\\\ProgramData\\\\TPM\\\\winscard\\.dll;90;\\\\Windows\\\\\n[unclosed;70';
    const { indicators, diagnostics } = parseIocList(
      text,
      'filename-iocs.txt',
      iocListKindFromName('filename-iocs.txt'),
    );
    expect(indicators.map((i) => [i.kind, i.syntax, i.severity, i.falsePositive])).toEqual([
      ['filename', 'regex', 'high', undefined],
      ['filename', 'regex', 'high', '\\\\Windows\\\\'],
    ]);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ line: 4, file: 'filename-iocs.txt' });
    expect(diagnostics[0]?.message).toMatch(/invalid regular expression/);
  });

  it('reads C2 lists of domains, IPs, CIDRs and URLs, defanged or not', () => {
    const text =
      '# 3CX C2\nakamaicontainer[.]com\nhxxps://sbmsa[.]wiki/blog/_insert\n10.1.2.3\n2001:db8::/32;90\nmsedgeupdate.net.\n-bad-\n';
    const { indicators, diagnostics } = parseIocList(text, 'c2-iocs.txt', 'c2');
    expect(indicators.map((i) => [i.kind, i.value])).toEqual([
      ['domain', 'akamaicontainer.com'],
      ['url', 'https://sbmsa.wiki/blog/_insert'],
      ['ip', '10.1.2.3'],
      ['ip', '2001:db8::/32'],
      ['domain', 'msedgeupdate.net'],
    ]);
    expect(indicators.every((i) => i.title === '3CX C2')).toBe(true);
    expect(diagnostics.map((d) => d.line)).toEqual([7]);
  });

  it('tells hashes, names and C2 apart in a list of unknown kind', () => {
    const text = `${SHA256}\nakamaicontainer.com\n\\\\evil\\.exe;70`;
    const { indicators } = parseIocList(text, 'mixed.txt');
    expect(indicators.map((i) => i.kind)).toEqual(['sha256', 'domain', 'filename']);
  });

  it('handles CRLF line endings and a byte-order mark', () => {
    const { indicators, diagnostics } = parseIocList(`\uFEFF${SHA256};a\r\n${SHA256};b\r\n`, 'x.txt');
    expect(diagnostics).toEqual([]);
    expect(indicators.map((i) => i.title)).toEqual(['a', 'b']);
  });
});

describe('toJsRegex', () => {
  it('turns Python inline flags and named groups into JavaScript', () => {
    const regex = toJsRegex('(?i)(?P<dir>\\\\temp\\\\)[a-z]+\\.exe\\Z');
    expect(regex).toBeInstanceOf(RegExp);
    expect((regex as RegExp).test('C:\\Windows\\TEMP\\abc.EXE')).toBe(true);
  });
});

describe('parseNetworkValue', () => {
  it.each([
    ['x.AkamaiContainer.com.', { kind: 'domain', value: 'x.akamaicontainer.com' }],
    ['bücher.example', { kind: 'domain', value: 'xn--bcher-kva.example' }],
    ['192.168.1.0/24', { kind: 'ip', value: '192.168.1.0/24' }],
    ['hxxp://a[.]com/x', { kind: 'url', value: 'http://a.com/x' }],
    ['not a domain', undefined],
    ['10.0.0.1/33', undefined],
    ['file:///etc/passwd', undefined],
  ])('%s', (input, expected) => {
    expect(parseNetworkValue(input)).toEqual(expected);
  });
});

describe('parseIocList on lists of unknown kind', () => {
  it('takes a scored CIDR or URL as network, not as a file name pattern', () => {
    const { indicators } = parseIocList(
      '198.51.100.0/24;90\nhttps://c2.example/x;80\n\\\\Temp\\\\x\\.exe;70',
      'ips.txt',
    );
    expect(indicators.map((i) => [i.kind, i.value])).toEqual([
      ['ip', '198.51.100.0/24'],
      ['url', 'https://c2.example/x'],
      ['filename', '\\\\Temp\\\\x\\.exe'],
    ]);
  });
});
