import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempTree } from '../testing/temp-tree.js';
import { PackStore } from './pack-store.js';

const deadPid = () =>
  Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());

describe('PackStore lock', () => {
  it('waits for a live holder, then refuses in one line naming its pid', async () => {
    const dir = join(tempTree(), 'packs');
    mkdirSync(dir);
    writeFileSync(join(dir, '.lock'), `${process.ppid}\n`);
    const store = new PackStore(dir, 300);
    const started = Date.now();
    await expect(store.withLock(async () => 'ran')).rejects.toThrow(
      new RegExp(`held by chainsweep process ${process.ppid}, which is still running`),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(existsSync(join(dir, '.lock'))).toBe(true);
  });

  it('breaks a lock whose process is gone', async () => {
    const dir = join(tempTree(), 'packs');
    mkdirSync(dir);
    writeFileSync(join(dir, '.lock'), `${deadPid()}\n`);
    const store = new PackStore(dir, 1000);
    expect(await store.withLock(async () => 'ran')).toBe('ran');
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  });

  it('serialises two holders in one process and is re-entrant', async () => {
    const dir = join(tempTree(), 'packs');
    const a = new PackStore(dir);
    const b = new PackStore(dir);
    const order: string[] = [];
    await Promise.all([
      a.withLock(async () => {
        order.push('a-in');
        await a.withLock(async () => order.push('a-nested'));
        await new Promise((r) => setTimeout(r, 100));
        order.push('a-out');
      }),
      new Promise((r) => setTimeout(r, 10)).then(() =>
        b.withLock(async () => {
          order.push('b');
        }),
      ),
    ]);
    expect(order).toEqual(['a-in', 'a-nested', 'a-out', 'b']);
  });

  it('a damaged current.json is a one-line error, never an installed pack silently gone', () => {
    const dir = join(tempTree(), 'packs');
    mkdirSync(join(dir, 'acme'), { recursive: true });
    writeFileSync(join(dir, 'acme/current.json'), '{"sequence": -1, "installedAt": "x"}');
    expect(() => new PackStore(dir).currentDirs()).toThrow(/current\.json: sequence: .*damaged/);
    writeFileSync(join(dir, 'acme/current.json'), '{');
    expect(() => new PackStore(dir).currentSequence('acme')).toThrow(/current\.json: not valid JSON/);
  });
});
