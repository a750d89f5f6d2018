import type { InstalledApp } from 'chainsweep/core/app.js';
import { describe, expect, it } from 'vitest';
import {
  appNameKeys,
  compilePackMatchers,
  type HostFacts,
  judgeHostFacts,
  needsEveryFile,
} from './retro-match.js';
import { affectedApp, intelOf, packArchiveBytes, sha256Indicator, testKey } from './test-packs.js';

const BAD = 'a'.repeat(64);
const GOOD = 'b'.repeat(64);

function app(name: string, version: string): InstalledApp {
  return { name, version, source: 'windows-uninstall', location: `HKLM\\Software\\Uninstall\\${name}` };
}

function host(hostId: string, facts: Partial<HostFacts>): HostFacts {
  return { hostId, os: 'windows', apps: [], files: [], ...facts };
}

async function matchersFor(content: Parameters<typeof packArchiveBytes>[1], sequence = 4) {
  const key = testKey();
  const archive = await packArchiveBytes('acme-2026', content, { key, sequence });
  return compilePackMatchers(await intelOf(archive, key), { id: 'acme-2026', sequence });
}

describe('judgeHostFacts', () => {
  it('flags a stored file whose SHA-256 the pack names, in any letter case, and says which sequence', async () => {
    const matchers = await matchersFor({ indicators: [sha256Indicator('loader', BAD)] });
    const [finding, ...rest] = judgeHostFacts(
      host('h1', {
        files: [
          { path: 'C:/x/ffmpeg.dll', size: 10, sha256: BAD.toUpperCase() },
          { path: 'C:/x/ok.dll', sha256: GOOD },
        ],
      }),
      matchers,
    );
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      kind: 'sha256',
      indicatorId: 'loader',
      packId: 'acme-2026',
      subject: { path: 'C:/x/ffmpeg.dll' },
      evidence: {
        origin: 'retro-hunt',
        packSequence: 4,
        algorithm: 'sha256',
        matched: { fact: 'file', path: 'C:/x/ffmpeg.dll', size: 10, sha256: BAD },
      },
    });
    expect(needsEveryFile(matchers)).toBe(false);
    expect(matchers.digests.get('sha256')).toEqual([BAD]);
  });

  it('ties the fingerprint to the host: the same file on two hosts is two findings', async () => {
    const matchers = await matchersFor({ indicators: [sha256Indicator('loader', BAD)] });
    const file = { path: '/opt/x', sha256: BAD };
    const [a] = judgeHostFacts(host('h1', { files: [file] }), matchers);
    const [b] = judgeHostFacts(host('h2', { files: [file] }), matchers);
    const [again] = judgeHostFacts(host('h1', { files: [file] }), matchers);
    expect(a?.fingerprint).not.toBe(b?.fingerprint);
    expect(a?.fingerprint).toBe(again?.fingerprint);
  });

  it('judges installed app versions with the pack: affected flagged, fixed and other products not', async () => {
    const matchers = await matchersFor({
      apps: [affectedApp('acme-desktop', 'Acme Desktop', ['1.2.3'], ['1.2.4'])],
    });
    const findings = judgeHostFacts(
      host('h1', { apps: [app('Acme Desktop', '1.2.3'), app('Other', '1.2.3')] }),
      matchers,
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'app',
      indicatorId: 'acme-desktop',
      evidence: {
        origin: 'retro-hunt',
        packSequence: 4,
        matched: { fact: 'app', app: { version: '1.2.3' } },
      },
    });
    expect(judgeHostFacts(host('h2', { apps: [app('Acme Desktop', '1.2.4')] }), matchers)).toEqual([]);
    expect(appNameKeys(matchers)).toEqual(['acme desktop']);
    // The entry is for Windows: the same app on a Mac is not judged.
    expect(
      judgeHostFacts(host('h3', { os: 'macos', apps: [app('Acme Desktop', '1.2.3')] }), matchers),
    ).toEqual([]);
  });

  it('reads every stored app when an entry can match an app of any name (by path or bundle id)', async () => {
    const byPath = {
      ...affectedApp('acme-desktop', 'Acme Desktop', ['1.2.3']),
      match: { names: ['Acme Desktop'], paths: ['**/Programs/AcmeDesktop'] },
    };
    const matchers = await matchersFor({ apps: [byPath] });
    expect(appNameKeys(matchers)).toBeUndefined();
    const renamed = { ...app('ACME Telephony', '1.2.3'), installLocation: 'C:/Users/a/Programs/AcmeDesktop' };
    expect(judgeHostFacts(host('h1', { apps: [renamed] }), matchers)).toHaveLength(1);
  });

  it('matches file-name indicators on stored paths written with either slash', async () => {
    const matchers = await matchersFor({
      indicators: [
        {
          id: 'dropper-name',
          kind: 'filename',
          value: 'd3dcompiler_47.dll',
          title: 'dropper',
          severity: 'high',
          confidence: 'medium',
        },
      ],
    });
    expect(needsEveryFile(matchers)).toBe(true);
    const findings = judgeHostFacts(
      host('h1', { files: [{ path: 'C:\\App\\D3DCompiler_47.dll' }, { path: 'C:/App/other.dll' }] }),
      matchers,
    );
    expect(findings.map((f) => f.subject.path)).toEqual(['C:\\App\\D3DCompiler_47.dll']);
  });
});
