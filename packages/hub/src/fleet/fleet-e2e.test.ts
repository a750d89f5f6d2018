import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { affectedWindowsImage, cleanImage, reportOnce } from '../testing/fleet-fixtures.js';
import { addHubToken, runHubCli, type ServeProcess, startServe } from '../testing/run-hub-cli.js';

describe('fleet end to end', () => {
  let serve: ServeProcess | undefined;
  afterEach(async () => {
    serve?.child.kill('SIGTERM');
    await serve?.exited;
  });

  it('shows one affected and one clean host after two agents report from real scans', async () => {
    const data = mkdtempSync(join(tmpdir(), 'chainsweep-hub-data-'));
    expect((await runHubCli(['hub', '--data', data, 'org', 'add', 'Acme'])).code).toBe(0);
    const enrol = await addHubToken(data, 'Acme', 'enrol');
    const api = await addHubToken(data, 'Acme', 'api', 'org-member');
    serve = await startServe(['--data', data, '--listen', '127.0.0.1:0']);
    for (const image of [await affectedWindowsImage(), cleanImage()]) {
      const run = await reportOnce(serve.url, enrol, image);
      expect(run.code, run.stderr).toBe(0);
    }
    const get = async (path: string) => {
      const res = await fetch(`${serve?.url}${path}`, {
        headers: { authorization: `Bearer ${api}` },
      });
      expect(res.status).toBe(200);
      // biome-ignore lint/suspicious/noExplicitAny: the test reads whatever JSON the hub answers
      return (await res.json()) as Record<string, any>;
    };
    const summary = await get('/api/v1/fleet/summary');
    expect(summary.total).toBe(2);
    expect(summary.counts).toMatchObject({ affected: 1, clean: 1 });
    const [host] = (await get('/api/v1/hosts?state=affected')).hosts;
    const detail = await get(`/api/v1/hosts/${host.id}`);
    expect(detail.evidence.affected[0]).toMatchObject({
      app: '3CX Desktop App',
      version: '18.12.416',
      packId: '3cx-2023',
    });
    expect(detail.evidence.affected[0].packSequence).toBeGreaterThan(0);
    expect(detail.verdicts.some((v: { verdict: string }) => v.verdict === 'affected')).toBe(true);
    expect(detail.reports[0]).toMatchObject({ command: 'scan', outcome: 'complete' });
    expect(detail.remediation.commands).toEqual(['chainsweep remediate', 'chainsweep remediate --apply']);
    expect(detail.remediation.installs[0]).toMatchObject({ packId: '3cx-2023', action: 'remove' });
    const byApp = await get('/api/v1/hosts?app=3CX%20Desktop%20App&version=18.12.416');
    expect(byApp.hosts.map((h: { id: string }) => h.id)).toEqual([host.id]);
  }, 120_000);
});
