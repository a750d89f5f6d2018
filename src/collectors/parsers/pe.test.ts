import { describe, expect, it } from 'vitest';
import { buildPe, fakePkcs7, versionInfo } from '../../testing/pe-builder.js';
import { bufferSource } from './byte-source.js';
import { checkCertificateTable, PeFormatError, parsePeHeaders, readVersionInfo } from './pe.js';

const STRINGS = {
  CompanyName: '3CX',
  FileDescription: '3CX Desktop App',
  FileVersion: '18.12.416',
  ProductName: '3CX Desktop App',
  ProductVersion: '18.12.416',
};

describe('PE parsing', () => {
  it('reads the version resource: fixed info and every string', () => {
    const pe = buildPe({ version: versionInfo({ fileVersion: '18.12.416.0', strings: STRINGS }) });
    const source = bufferSource(pe);
    const headers = parsePeHeaders(source);
    expect(headers.is64).toBe(true);
    expect(headers.sections.map((s) => s.name)).toEqual(['.text', '.rdata', '.rsrc']);
    expect(readVersionInfo(source, headers)).toEqual({
      fileVersion: '18.12.416.0',
      productVersion: '18.12.416.0',
      strings: STRINGS,
    });
  });

  it('keeps strings with odd characters and tolerates an image with no resources', () => {
    const odd = { ProductName: 'Téléphone – 電話 ☎', CompanyName: '', LegalCopyright: 'x'.repeat(300) };
    const pe = buildPe({
      version: versionInfo({ fileVersion: '1.2.3.4', strings: odd, language: '000004e4' }),
    });
    const info = readVersionInfo(bufferSource(pe), parsePeHeaders(bufferSource(pe)));
    expect(info?.strings.ProductName).toBe('Téléphone – 電話 ☎');
    expect(info?.strings.LegalCopyright).toHaveLength(300);
    const bare = buildPe({});
    expect(readVersionInfo(bufferSource(bare), parsePeHeaders(bufferSource(bare)))).toBeUndefined();
  });

  it.each([
    ['an empty file', Buffer.alloc(0)],
    ['a text file', Buffer.from('hello, this is not a program at all, just text')],
    ['a truncated PE', buildPe({}).subarray(0, 300)],
    [
      'an MZ with a wild PE offset',
      Buffer.concat([Buffer.from('MZ'), Buffer.alloc(58), Buffer.from([0xff, 0xff, 0xff, 0x7f])]),
    ],
  ])('refuses %s with a PeFormatError', (_, bytes) => {
    expect(() => parsePeHeaders(bufferSource(bytes))).toThrow(PeFormatError);
  });

  it('refuses a truncated version resource cleanly', () => {
    const pe = buildPe({ version: versionInfo({ fileVersion: '1.0.0.0', strings: STRINGS }) });
    const source = bufferSource(pe);
    const headers = parsePeHeaders(source);
    const rsrc = headers.sections[2]?.rawOffset ?? 0;
    const cut = bufferSource(pe.subarray(0, rsrc + 300));
    expect(() => readVersionInfo(cut, headers)).toThrow(PeFormatError);
  });
});

describe('checkCertificateTable (CVE-2013-3900)', () => {
  const check = (pe: Buffer) => checkCertificateTable(bufferSource(pe), parsePeHeaders(bufferSource(pe)));

  it('finds data appended after the signature, and the FE ED FA CE marker', () => {
    const hidden = Buffer.concat([
      Buffer.from([0xfe, 0xed, 0xfa, 0xce, 0xfe, 0xed, 0xfa, 0xce]),
      Buffer.alloc(300, 0x41),
    ]);
    const result = check(buildPe({ certificate: { pkcs7: fakePkcs7(), afterSignature: hidden } }));
    expect(result?.extraBytes).toBeGreaterThanOrEqual(308);
    expect(result?.feedfaceOffset).toBe(result?.extraOffset);
  });

  it('accepts a clean signature and its alignment padding', () => {
    const result = check(buildPe({ certificate: { pkcs7: fakePkcs7(601) } }));
    expect(result?.extraBytes).toBe(0);
    expect(check(buildPe({}))).toBeUndefined();
  });

  it('reports hidden bytes without the marker', () => {
    const result = check(
      buildPe({ certificate: { pkcs7: fakePkcs7(), afterSignature: Buffer.alloc(64, 7) } }),
    );
    expect(result?.extraBytes).toBeGreaterThanOrEqual(64);
    expect(result?.feedfaceOffset).toBeUndefined();
  });

  it('refuses a certificate table that runs past the end of the file', () => {
    const pe = buildPe({ certificate: { pkcs7: fakePkcs7() } });
    expect(() => check(pe.subarray(0, pe.length - 10))).toThrow(/runs past the end/);
  });
});
