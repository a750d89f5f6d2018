import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = JSON.parse(readFileSync('package.json', 'utf8')) as Record<string, Record<string, string>>;
const hub = JSON.parse(readFileSync('packages/hub/package.json', 'utf8')) as Record<
  string,
  Record<string, string>
>;

describe('the scanner and agent package carries none of the hub', () => {
  it('depends on none of the hub dependencies', () => {
    const hubDeps = Object.keys(hub.dependencies ?? {}).filter((name) => name !== 'chainsweep');
    expect(hubDeps.length).toBeGreaterThan(0);
    const rootRuntime = [
      ...Object.keys(root.dependencies ?? {}),
      ...Object.keys(root.optionalDependencies ?? {}),
    ];
    expect(rootRuntime.filter((name) => hubDeps.includes(name))).toEqual([]);
    expect(rootRuntime.sort()).toEqual(['@litko/yara-x-linux-x64-gnu', '@virustotal/yara-x', 'zod']);
  });

  it('publishes no hub file', () => {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--workspaces=false'], {
        encoding: 'utf8',
      }),
    ) as { files: { path: string }[] }[];
    const files = packed[0]?.files.map((f) => f.path) ?? [];
    expect(files).toContain('package.json');
    expect(files.filter((path) => path.startsWith('packages/'))).toEqual([]);
  });
});
