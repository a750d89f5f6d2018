import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PlistFormatError, type PlistValue, parsePlist } from './plist.js';

// Written by Python's plistlib, an independent implementation of both formats.
const fixture = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url));

describe('parsePlist', () => {
  it('reads binary and XML forms of the same Info.plist to the same values', () => {
    const binary = parsePlist(fixture('3cx-Info.binary.plist')) as Record<string, PlistValue>;
    const xml = parsePlist(fixture('3cx-Info.xml.plist')) as Record<string, PlistValue>;
    expect(binary).toEqual(xml);
    expect(binary).toMatchObject({
      CFBundleIdentifier: 'com.electron.3cx-desktop-app',
      CFBundleShortVersionString: '18.12.416',
      CFBundleVersion: '18.12.416',
      NSHighResolutionCapable: true,
      NSRequiresAquaSystemAppearance: false,
      LSFileQuarantineEnabled: 0,
      BigNumber: 4294967296,
      Unicode: 'Téléphone ☎ 電話',
      CFBundleURLTypes: [{ CFBundleURLName: '3CX', CFBundleURLSchemes: ['3cx', 'tel', 'callto'] }],
    });
    expect(binary.SomeData).toEqual(Buffer.from([0, 1, 2, 255]));
    expect((binary.SomeDate as Date).toISOString()).toBe('2023-03-13T06:41:52.000Z');
  });

  it.each([
    ['plain text', Buffer.from('CFBundleVersion = 18.12.416')],
    ['JSON', Buffer.from('{"CFBundleVersion": "18.12.416"}')],
    ['a truncated binary plist', fixture('3cx-Info.binary.plist').subarray(0, 200)],
    [
      'a binary plist with a broken trailer',
      Buffer.concat([fixture('3cx-clean-Info.binary.plist').subarray(0, 190), Buffer.alloc(7, 0xff)]),
    ],
    ['unclosed XML', Buffer.from('<?xml version="1.0"?><plist><dict><key>a</key><string>b</string>')],
    ['XML with an unknown element', Buffer.from('<plist><dict><key>a</key><foo>b</foo></dict></plist>')],
  ])('refuses %s with a PlistFormatError', (_, bytes) => {
    expect(() => parsePlist(bytes)).toThrow(PlistFormatError);
  });

  it('decodes XML entities and CDATA', () => {
    const text =
      '<plist version="1.0"><dict><key>A&amp;B</key><string>&lt;x&gt; &#x263A; <![CDATA[<raw>]]></string></dict></plist>';
    expect(parsePlist(Buffer.from(text))).toEqual({ 'A&B': '<x> ☺ <raw>' });
  });
});
