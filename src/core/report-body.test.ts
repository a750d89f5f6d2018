import { describe, expect, it } from 'vitest';
import { sampleReport } from '../testing/sample-report.js';
import { fieldPath, validateReportBody } from './report-body.js';

const encode = (value: unknown) =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('validateReportBody', () => {
  it('accepts a valid report and returns it parsed, keys in schema order', () => {
    const report = sampleReport();
    const result = validateReportBody(encode(report));
    expect(result).toEqual({ ok: true, report });
    if (result.ok) expect(Object.keys(result.report)).toEqual(Object.keys(report));
  });

  it('names the field of a wrong type as findings[3].severity', () => {
    const report = sampleReport({ findings: 5 });
    (report.findings[3] as { severity: unknown }).severity = 7;
    expect(validateReportBody(encode(report))).toMatchObject({
      ok: false,
      code: 'INVALID_REPORT',
      field: 'findings[3].severity',
    });
    const counts = sampleReport();
    (counts.packs[0] as { counts: Record<string, unknown> }).counts['sha 256'] = -1;
    expect(validateReportBody(encode(counts))).toMatchObject({ field: 'packs[0].counts["sha 256"]' });
  });

  it('names host.hostId when it is missing or malformed, whatever the findings hold', () => {
    const report = sampleReport();
    const { hostId: _drop, ...host } = report.host;
    const bad = { ...report, host, findings: [{ nonsense: true }] };
    expect(validateReportBody(encode(bad))).toMatchObject({ ok: false, field: 'host.hostId' });
    const upper = { ...report, host: { ...report.host, hostId: report.host.hostId.toUpperCase() } };
    expect(validateReportBody(encode(upper))).toMatchObject({ ok: false, field: 'host.hostId' });
  });

  it('refuses more than 100,000 findings and names findings; 100,000 pass the count', () => {
    const finding = sampleReport({ findings: 1 }).findings[0];
    const body = (n: number) => encode({ ...sampleReport(), findings: new Array(n).fill(finding) });
    const over = validateReportBody(body(100_001));
    expect(over).toMatchObject({ ok: false, code: 'TOO_MANY_FINDINGS', field: 'findings' });
    expect(validateReportBody(body(100_000)).ok).toBe(true);
    expect(validateReportBody(body(11), { maxFindings: 10, maxArrayItems: 100 })).toMatchObject({
      code: 'TOO_MANY_FINDINGS',
      field: 'findings',
    });
  });

  it('refuses the same over-limit body again and again, never falling into a slow path', () => {
    const finding = sampleReport({ findings: 1 }).findings[0];
    const body = encode({
      ...sampleReport(),
      findings: Array.from({ length: 100_001 }, (_, i) => ({
        ...finding,
        fingerprint: i.toString(16).padStart(64, '0'),
      })),
    });
    for (let round = 0; round < 4; round++)
      expect(validateReportBody(body, { maxBytes: 128 * 1024 * 1024 })).toMatchObject({
        code: 'TOO_MANY_FINDINGS',
        field: 'findings',
      });
  }, 30_000);

  it('refuses any other array above the item limit, naming it', () => {
    const report = sampleReport({ apps: 11 });
    expect(validateReportBody(encode(report), { maxArrayItems: 10, maxFindings: 10 })).toMatchObject({
      code: 'TOO_MANY_ITEMS',
      field: 'inventory.apps',
    });
  });

  it('refuses 10,000-deep nesting without a stack overflow, naming where', () => {
    const deep = encode(`{"evidence":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
    const result = validateReportBody(deep);
    expect(result).toMatchObject({ ok: false, code: 'TOO_DEEP' });
    expect(!result.ok && result.field?.startsWith('evidence[0][0]')).toBe(true);
    const objects = encode(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`);
    expect(validateReportBody(objects)).toMatchObject({ ok: false, code: 'TOO_DEEP' });
  });

  it('refuses a 10 MB string, and a 10 MB key, naming the field', () => {
    const report = sampleReport();
    const huge = { ...report, host: { ...report.host, hostname: 'a'.repeat(10_000_000) } };
    expect(validateReportBody(encode(huge))).toMatchObject({
      ok: false,
      code: 'STRING_TOO_LONG',
      field: 'host.hostname',
    });
    const key = encode(`{"stats":{"${'k'.repeat(10_000_000)}":1}}`);
    expect(validateReportBody(key)).toMatchObject({ ok: false, code: 'STRING_TOO_LONG', field: 'stats' });
    const escaped = { ...report, title: `${'\\"'.repeat(600_000)}` };
    expect(validateReportBody(encode(escaped))).toMatchObject({ code: 'STRING_TOO_LONG', field: 'title' });
  });

  it('refuses invalid UTF-8, a BOM, a body that is not JSON, not an object, or too large', () => {
    const good = encode(sampleReport());
    const bad = new Uint8Array([...good.subarray(0, 100), 0xff, ...good.subarray(100)]);
    expect(validateReportBody(bad)).toEqual({ ok: false, code: 'INVALID_UTF8', message: expect.any(String) });
    const overlong = encode('{"a":"x"}');
    overlong[6] = 0xc1; // an overlong form of a one-byte character
    expect(validateReportBody(overlong)).toMatchObject({ code: 'INVALID_UTF8' });
    expect(validateReportBody(new Uint8Array([0xef, 0xbb, 0xbf, ...good]))).toMatchObject({
      code: 'INVALID_JSON',
    });
    expect(validateReportBody(encode('{"a": secret-text'))).toMatchObject({ code: 'INVALID_JSON' });
    const notJson = validateReportBody(encode('{"a": secret-text'));
    expect(!notJson.ok && notJson.message).not.toContain('secret');
    expect(validateReportBody(encode('[1,2]'))).toMatchObject({ code: 'INVALID_REPORT' });
    expect(validateReportBody(encode('null'))).toMatchObject({ code: 'INVALID_REPORT' });
    expect(validateReportBody(encode('"unterminated'))).toMatchObject({ code: 'INVALID_JSON' });
    expect(validateReportBody(good, { maxBytes: 100 })).toMatchObject({ code: 'TOO_LARGE' });
  });

  it('counts quotes after an even run of backslashes as closing the string', () => {
    const report = sampleReport();
    const withPath = {
      ...report,
      scope: { ...report.scope, paths: ['C:\\', 'D:\\users\\\\', 'say "hi"', '\\"'] },
    };
    expect(validateReportBody(encode(withPath))).toEqual({ ok: true, report: withPath });
  });

  it('refuses a NUL in any string or key, naming the field, but not an escaped backslash before u0000', () => {
    const nul = (edit: (r: ReturnType<typeof sampleReport>) => void) => {
      const report = sampleReport({ findings: 2 });
      edit(report);
      return validateReportBody(encode(report));
    };
    expect(nul((r) => (r.host.hostname = 'evil\u0000name'))).toMatchObject({
      ok: false,
      code: 'NUL_CHARACTER',
      field: 'host.hostname',
    });
    expect(nul((r) => (r.host.osRelease = '\u0000'))).toMatchObject({ field: 'host.osRelease' });
    expect(nul((r) => ((r.findings[1] as { title: string }).title = 'x\u0000'))).toMatchObject({
      field: 'findings[1].title',
    });
    expect(
      nul((r) => ((r.packs[0] as { counts: Record<string, number> }).counts['a\u0000b'] = 1)),
    ).toMatchObject({ code: 'NUL_CHARACTER', field: 'packs[0].counts' });
    const escaped = sampleReport();
    escaped.host.hostname = 'back\\u0000slash';
    expect(validateReportBody(encode(escaped))).toEqual({ ok: true, report: escaped });
  });

  it('refuses C0 control characters and DEL in host.hostname', () => {
    for (const bad of ['a\u001bb', 'a\nb', 'a\rb', 'a\u007fb', '\tx']) {
      const report = sampleReport();
      report.host.hostname = bad;
      expect(validateReportBody(encode(report))).toMatchObject({
        ok: false,
        code: 'INVALID_REPORT',
        field: 'host.hostname',
      });
    }
    const fine = sampleReport();
    fine.host.hostname = 'web-01.example \u00e9';
    expect(validateReportBody(encode(fine))).toMatchObject({ ok: true });
  });

  it('writes field paths in bracket and dot form', () => {
    expect(fieldPath(['findings', 3, 'severity'])).toBe('findings[3].severity');
    expect(fieldPath(['counts', 'a.b', 0])).toBe('counts["a.b"][0]');
    expect(fieldPath([])).toBe('');
  });
});
