/**
 * `node --import tsx bench/report-body.ts`: how long validateReportBody takes on a realistic 20 KB report, a
 * 10 MB one, and hostile bodies (a 10 MB string, 10,000-deep nesting, 100,001 findings, 100,000 bad findings).
 */
import { validateReportBody } from '../src/core/report-body.js';
import { sampleReport } from '../src/testing/sample-report.js';

const encode = (value: unknown) =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

function sized(targetBytes: number): Uint8Array {
  let findings = 1;
  let bytes = encode(sampleReport({ findings }));
  while (bytes.length < targetBytes) {
    findings = Math.ceil(findings * Math.min(4, targetBytes / bytes.length));
    bytes = encode(sampleReport({ findings }));
  }
  return bytes;
}

function time(name: string, body: Uint8Array, expectOk: boolean): void {
  const first = validateReportBody(body);
  if (first.ok !== expectOk)
    throw new Error(`${name}: expected ok=${expectOk}, got ${JSON.stringify(first).slice(0, 300)}`);
  let runs = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < 2_000_000_000n || runs < 5) {
    validateReportBody(body);
    runs++;
    elapsed = process.hrtime.bigint() - start;
  }
  const ns = Number(elapsed) / runs;
  const mbPerS = body.length / 1e6 / (ns / 1e9);
  process.stdout.write(
    `| ${name} | ${body.length.toLocaleString('en')} | ${Math.round(ns).toLocaleString('en')} | ${mbPerS.toFixed(0)} | ${first.ok ? 'ok' : `${first.code} ${first.field ?? ''}`} |\n`,
  );
}

const valid = sampleReport();
const badFindings = sampleReport({ findings: 100_000 });
for (const f of badFindings.findings) (f as { severity: string }).severity = 'dire';
const tooMany = sampleReport({ findings: 100_001 });

process.stdout.write('| body | bytes | ns/op | MB/s | result |\n| --- | ---: | ---: | ---: | --- |\n');
time('20 KB report (50 apps)', sized(20_000), true);
time('10 MB report', sized(10_000_000), true);
time(
  '10 MB string in host.hostname',
  encode({ ...valid, host: { ...valid.host, hostname: 'a'.repeat(10_000_000) } }),
  false,
);
time('10,000-deep nesting', encode(`{"evidence":${'['.repeat(10_000)}${']'.repeat(10_000)}}`), false);
time('100,001 findings', encode(tooMany), false);
time('100,000 findings, all bad', encode(badFindings), false);
