import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseApkInstalled, parseDpkgStatus, parsePacmanDesc, parseRpmQuery } from './package-dbs.js';

describe('package database parsers', () => {
  it('reads dpkg status: installed packages with version, arch and source; skips removed ones', () => {
    const packages = parseDpkgStatus(
      readFileSync(new URL('./testdata/dpkg-status', import.meta.url), 'utf8'),
    );
    expect(packages.map((p) => [p.name, p.version, p.source])).toEqual([
      ['base-files', '13.1', undefined],
      ['liblzma5', '5.6.1-1', 'xz-utils'],
      ['xz-utils', '5.6.1+really5.4.5-1', undefined],
      ['openssh-server', '1:9.7p1-2', 'openssh'],
    ]);
    expect(packages[1]?.arch).toBe('amd64');
  });

  it('reads a pacman desc file', () => {
    const desc =
      '%NAME%\nxz\n\n%VERSION%\n5.6.1-1\n\n%BASE%\nxz\n\n%ARCH%\nx86_64\n\n%PACKAGER%\nFrederik Schwan <freswa@archlinux.org>\n';
    expect(parsePacmanDesc(desc)).toEqual({
      name: 'xz',
      version: '5.6.1-1',
      arch: 'x86_64',
      maintainer: 'Frederik Schwan <freswa@archlinux.org>',
    });
    expect(parsePacmanDesc('%NAME%\nxz\n')).toBeUndefined();
  });

  it('reads the apk installed database', () => {
    const db = 'C:Q1abc=\nP:xz-libs\nV:5.6.1-r1\nA:x86_64\no:xz\n\nC:Q1def=\nP:musl\nV:1.2.4-r2\nA:x86_64\n';
    expect(parseApkInstalled(db)).toEqual([
      { name: 'xz-libs', version: '5.6.1-r1', arch: 'x86_64', source: 'xz' },
      { name: 'musl', version: '1.2.4-r2', arch: 'x86_64' },
    ]);
  });

  it('reads rpm query output, dropping a zero epoch', () => {
    const out =
      'xz-libs\t0:5.6.0-2.fc40\tx86_64\tFedora Project\nxz\t1:5.4.6-3.fc40\tx86_64\t(none)\ngpg-pubkey\t0:abc-def\t(none)\t(none)\n';
    expect(parseRpmQuery(out).map((p) => [p.name, p.version, p.arch])).toEqual([
      ['xz-libs', '5.6.0-2.fc40', 'x86_64'],
      ['xz', '1:5.4.6-3.fc40', 'x86_64'],
      ['gpg-pubkey', 'abc-def', undefined],
    ]);
  });
});
