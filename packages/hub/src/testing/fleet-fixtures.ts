/** @module Hosts for end-to-end tests: fixture disks, and agents that scan them and report to a running hub. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CliRun, runHubCli } from './run-hub-cli.js';

/** A Windows disk with the affected 3CX Desktop App 18.12.416 (the root package's image builder, loaded at run time). */
export async function affectedWindowsImage(): Promise<string> {
  const path = new URL('../../../../src/testing/remediate-image.js', import.meta.url).href;
  const module = (await import(path)) as { windowsImage(at?: string): string };
  return module.windowsImage(mkdtempSync(join(tmpdir(), 'chainsweep-affected-')));
}

/** A disk with nothing on it to find. */
export function cleanImage(): string {
  const clean = mkdtempSync(join(tmpdir(), 'chainsweep-clean-'));
  writeFileSync(join(clean, 'notes.txt'), 'nothing to see');
  return clean;
}

/** One agent, enrolled with `enrol` in its own state folder, scans `image` once and reports to `hubUrl`. */
export function reportOnce(
  hubUrl: string,
  enrol: string,
  image: string,
  scanArgs: string[] = [],
): Promise<CliRun> {
  const state = mkdtempSync(join(tmpdir(), 'chainsweep-agent-'));
  return runHubCli([
    'agent',
    '--hub',
    hubUrl,
    '--enrol',
    enrol,
    '--state',
    state,
    '--once',
    '--retries',
    '0',
    '--',
    '--root',
    image,
    ...scanArgs,
  ]);
}
