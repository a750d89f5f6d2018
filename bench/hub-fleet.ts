/**
 * @module A deterministic fleet for the hub benchmark: host ids, names and one realistic scan report per host
 * (50 apps, file facts with SHA-256, and a few findings on the hosts that have some), gzip-compressed.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Report } from '../src/core/report.js';
import { sampleReport } from '../src/testing/sample-report.js';

/** File facts per report: most are files every host of the fleet shares, the rest its own. */
export const FILES_PER_REPORT = 100;
const SHARED_FILES = 85;
const SHARED_POOL = 4000;
const sharedFiles = Array.from({ length: SHARED_POOL }, (_, n) => ({
  path: `C:\\Windows\\System32\\lib${n}.dll`,
  size: 40_000 + n * 17,
  sha256: hex(`shared-${n}`, 64),
}));

/** Which hosts are what: one in 20 has an affected 3CX install, one in 50 file hits, one in 100 the new file. */
export const FLEET_MIX = {
  affected: (i: number) => i % 20 === 3,
  hits: (i: number) => i % 50 === 11,
  /** Holds the file whose SHA-256 the retro-hunt pack names; never an affected or a hits host. */
  retro: (i: number) => i % 100 === 7,
};

/** The SHA-256 the retro-hunt pack adds, held by the `retro` hosts only. */
export const RETRO_SHA256 = hex('bench-retro-hunt-new-file', 64);

/** The benchmark's host number `i`: its machine id and name. */
export function benchHost(i: number): { hostId: string; hostname: string } {
  return { hostId: hex(`bench-host-${i}`, 32), hostname: `desk-${String(i).padStart(6, '0')}` };
}

/** How many of `n` hosts are in each planted group. */
export function plantedCounts(n: number): { affected: number; hits: number; retro: number } {
  const counts = { affected: 0, hits: 0, retro: 0 };
  for (let i = 0; i < n; i++) {
    if (FLEET_MIX.affected(i)) counts.affected++;
    if (FLEET_MIX.hits(i)) counts.hits++;
    if (FLEET_MIX.retro(i)) counts.retro++;
  }
  return counts;
}

/** Host `i`'s scan report as JSON text. */
export function benchReportJson(i: number): string {
  const { hostId, hostname } = benchHost(i);
  const base = sampleReport({
    hostId,
    hostname,
    apps: 50,
    findings: FLEET_MIX.hits(i) ? 3 : 0,
    reportId: uuidOf(hex(`bench-report-${i}`, 32)),
  });
  const report: Report = {
    ...base,
    host: { ...base.host, addresses: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`] },
    facts: { files: files(i), filesOmitted: 0 },
  };
  if (FLEET_MIX.affected(i)) {
    report.inventory = {
      ...(report.inventory as NonNullable<Report['inventory']>),
      apps: [
        ...(report.inventory?.apps ?? []).slice(1),
        {
          name: '3CX Desktop App',
          version: '18.12.416',
          source: 'windows-programs',
          location: 'C:\\Users\\alice\\AppData\\Local\\Programs\\3CXDesktopApp\\3CXDesktopApp.exe',
        },
      ],
      verdicts: [
        {
          app: 49,
          packId: '3cx-2023',
          productId: '3cx-desktopapp-windows',
          product: '3CX Desktop App',
          verdict: 'affected',
          affected: ['18.12.416'],
          fixed: ['18.12.422'],
        },
      ],
    };
  }
  return JSON.stringify(report);
}

/** Host `i`'s report, gzip-compressed as the agent sends it. */
export function benchReportBody(i: number): Buffer {
  return gzipSync(benchReportJson(i), { level: 6 });
}

function files(i: number): { path: string; size: number; sha256: string }[] {
  const out: { path: string; size: number; sha256: string }[] = [];
  for (let k = 0; k < SHARED_FILES; k++) {
    out.push(sharedFiles[(i * 7 + k * 31) % SHARED_POOL] as (typeof out)[number]);
  }
  for (let k = SHARED_FILES; k < FILES_PER_REPORT; k++)
    out.push({
      path: `C:\\Users\\user${i}\\AppData\\Local\\Programs\\Tool${k}\\tool${k}.exe`,
      size: 100_000 + k,
      sha256: hex(`own-${i}-${k}`, 64),
    });
  if (FLEET_MIX.retro(i))
    out[FILES_PER_REPORT - 1] = {
      path: `C:\\Users\\user${i}\\AppData\\Local\\Programs\\Updater\\update.exe`,
      size: 1_234_567,
      sha256: RETRO_SHA256,
    };
  return out;
}

function hex(seed: string, length: number): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length);
}

function uuidOf(h: string): string {
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
