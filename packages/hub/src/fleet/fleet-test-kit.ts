/** @module Test helpers of the fleet: organisations with enrolled agents, reports to upload, uploads. */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Report } from 'chainsweep/core/report.js';
import type { Hono } from 'hono';
import { sampleReport } from '../../../../src/testing/sample-report.js';
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

/** A clean, complete scan report of `hostId` (no findings, no affected verdicts), changed by `change`. */
export function cleanReport(hostId: string, change: Partial<Report> & { hostname?: string } = {}): Report {
  const { hostname, ...rest } = change;
  const base = sampleReport({
    hostId,
    findings: 0,
    apps: 3,
    reportId: randomUUID(),
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
  return app.request(options.path ?? '/api/v1/reports', {
    method: 'POST',
    headers: {
      authorization: `Bearer ${credential}`,
      'content-type': 'application/json',
      ...(options.gzip ? { 'content-encoding': 'gzip' } : {}),
    },
    body: options.gzip ? gzipSync(bytes) : bytes,
  });
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
