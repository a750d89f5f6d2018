/** @module Test helpers of the fleet: organisations with enrolled agents, reports to upload, uploads. */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { type Finding, fingerprint, hostFingerprint } from 'chainsweep/core/finding.js';
import type { Report } from 'chainsweep/core/report.js';
import type { Hono } from 'hono';
import { createToken } from '../auth/tokens.js';
import type { HubEnv } from '../http/hub-env.js';
import type { Db } from '../store/db.js';

/** An enrolled agent: its credential and the host id it enrolled with. */
export interface TestAgent {
  agentId: string;
  hostId: string;
  credential: string;
}

/** A random 32-hex host id, as Linux machine-ids are. */
export const newHostId = () => randomUUID().replaceAll('-', '');

/** Enrols an agent of `orgId` through `POST /api/v1/enrol`. */
export async function enrol(
  app: Hono<HubEnv>,
  db: Db,
  orgId: string,
  hostId: string,
  hostname: string,
): Promise<TestAgent> {
  const token = (await createToken(db, { kind: 'all' }, { orgId, kind: 'enrol' }, new Date())).token;
  const res = await app.request('/api/v1/enrol', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, hostId, hostname }),
  });
  if (res.status !== 201) throw new Error(`enrol: ${res.status} ${await res.text()}`);
  return (await res.json()) as TestAgent;
}

/** A complete scan report of a Windows host with `apps` apps and `findings` SHA-256 findings (3CX's ffmpeg.dll). */
export function scanReport(options: {
  hostId: string;
  hostname?: string;
  apps?: number;
  findings?: number;
  reportId?: string;
}): Report {
  const { hostId } = options;
  return {
    schemaVersion: 1,
    reportId: options.reportId ?? randomUUID(),
    tool: { name: 'chainsweep', version: '0.1.0' },
    command: 'scan',
    host: {
      hostId,
      hostIdSource: 'linux-machine-id',
      hostname: options.hostname ?? 'desk-0042',
      os: 'win32',
      osRelease: '10.0.19045',
      arch: 'x64',
      addresses: ['10.20.30.42'],
    },
    startedAt: '2026-12-02T09:00:00.000Z',
    finishedAt: '2026-12-02T09:04:12.345Z',
    outcome: 'complete',
    scope: { paths: ['C:\\'] },
    packs: [{ id: '3cx-2023', title: '3CX 2023', sequence: 7, signed: true, counts: { sha256: 40 } }],
    coverage: [{ name: 'walk', outcome: 'complete', problemCount: 0, problems: [] }],
    inventory: {
      os: 'windows',
      apps: Array.from({ length: options.apps ?? 3 }, (_, i) => ({
        name: `Example App ${i}`,
        version: `1.${i}.0`,
        source: 'windows-uninstall' as const,
        location: `HKLM\\SOFTWARE\\Example${i}`,
      })),
      verdicts: [],
    },
    findings: Array.from({ length: options.findings ?? 3 }, (_, i) => {
      const path = `C:\\Users\\alice\\AppData\\Local\\Programs\\3CXDesktopApp\\app-${i}\\ffmpeg.dll`;
      return {
        fingerprint: hostFingerprint(hostId, fingerprint('3cx-2023', `sha256-${i % 7}`, path)),
        kind: 'sha256' as const,
        indicatorId: `sha256-${i % 7}`,
        packId: '3cx-2023',
        severity: 'critical' as const,
        confidence: 'high' as const,
        title: 'Trojanized ffmpeg.dll',
        subject: { path },
        evidence: { file: { size: 2_826_240 + i } },
        references: [],
      };
    }),
    stats: { files: 100, bytes: 1000, yaraFiles: 0, yaraBytes: 0, skipped: {}, durationMs: 1000 },
  };
}

/** A clean, complete scan report of `hostId` (no findings, no affected verdicts), changed by `change`. */
export function cleanReport(hostId: string, change: Partial<Report> & { hostname?: string } = {}): Report {
  const { hostname, ...rest } = change;
  const base = scanReport({
    hostId,
    findings: 0,
    ...(hostname ? { hostname } : {}),
  });
  return { ...base, ...rest };
}

/** Sends a report body (an object, or raw bytes) to `POST /api/v1/reports`, gzip-compressed when asked. */
export function upload(
  app: Hono<HubEnv>,
  credential: string,
  body: unknown,
  options: { gzip?: boolean; path?: string } = {},
): Promise<Response> {
  const bytes = body instanceof Uint8Array ? body : Buffer.from(JSON.stringify(body));
  return Promise.resolve(
    app.request(options.path ?? '/api/v1/reports', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${credential}`,
        'content-type': 'application/json',
        ...(options.gzip ? { 'content-encoding': 'gzip' } : {}),
      },
      body: options.gzip ? gzipSync(bytes) : bytes,
    }),
  );
}

/** GETs `path` with an API token and returns status and JSON. */
export async function getJson(
  app: Hono<HubEnv>,
  token: string,
  path: string,
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the hub answers
): Promise<{ status: number; body: any }> {
  const res = await app.request(path, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

/** A hunt hit on the 3CX C2 domain `seen` in a DNS log at `timestamp`, naming `client` when given. */
export function logHit(client: string | undefined, seen: string, timestamp: string): Finding {
  return {
    fingerprint: randomUUID().replaceAll('-', '').repeat(2),
    kind: 'domain',
    indicatorId: 'domain-akamaicontainer',
    packId: '3cx-2023',
    severity: 'critical',
    confidence: 'high',
    title: '3CX C2 domain',
    subject: {
      log: {
        file: '/var/log/dns.log',
        line: 7,
        format: 'bind',
        timestamp,
        seen,
        ...(client ? { client } : {}),
      },
    },
    evidence: { value: seen },
    references: [],
  };
}
