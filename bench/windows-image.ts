import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildPe, versionInfo } from '../src/testing/pe-builder.js';
import { uninstallHive } from '../src/testing/regf-builder.js';
import { Random } from './random.js';

/**
 * A mounted-Windows-image look-alike: `profiles` user folders, each with ~100 files (documents, caches, three
 * program folders with versioned executables, one of them 3CX in some profiles) and an NTUSER.DAT with Uninstall
 * entries; a SOFTWARE hive; Program Files. Written once, reused after.
 */
export function buildWindowsImage(root: string, profiles: number): { files: number } {
  let files = 0;
  const write = (path: string, content: () => Buffer | string) => {
    files++;
    const full = join(root, path);
    if (existsSync(full)) return;
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content());
  };
  const random = new Random(42);
  const exe = (name: string, version: string, company: string) =>
    buildPe({
      version: versionInfo({
        fileVersion: `${version}.0`,
        strings: { ProductName: name, ProductVersion: version, CompanyName: company },
      }),
    });
  const uninstall = (entries: [string, string, string][], user: boolean) =>
    uninstallHive(
      Object.fromEntries(
        entries.map(([key, name, version]) => [
          key,
          {
            DisplayName: name,
            DisplayVersion: version,
            Publisher: key === '3CXDesktopApp' ? '3CX Ltd' : key,
          },
        ]),
      ),
      { user },
    );

  write('Windows/System32/config/SOFTWARE', () => uninstall([['7-Zip', '7-Zip', '23.01']], false));
  for (let p = 0; p < profiles; p++) {
    const user = `user${String(p).padStart(3, '0')}`;
    const threeCx = p % 4 === 0 ? '18.12.416' : p % 4 === 1 ? '18.12.422' : undefined;
    const programs: [string, string, string][] = [
      ['Slack', 'Slack', `4.${random.int(30, 41)}.0`],
      ['Zoom', 'Zoom', `5.${random.int(10, 17)}.1`],
      ...(threeCx ? [['3CXDesktopApp', '3CX Desktop App', threeCx] as [string, string, string]] : []),
    ];
    for (const [folder, name, version] of programs) {
      write(`Users/${user}/AppData/Local/Programs/${folder}/${folder}.exe`, () =>
        exe(name, version, folder === '3CXDesktopApp' ? '3CX' : folder),
      );
      for (let i = 0; i < 5; i++)
        write(`Users/${user}/AppData/Local/Programs/${folder}/resources/file${i}.pak`, () =>
          random.bytes(2048),
        );
    }
    write(`Users/${user}/NTUSER.DAT`, () => uninstall(programs, true));
    const others = 100 - programs.length * 6 - 1;
    for (let i = 0; i < others; i++) {
      const where = random.pick([
        'Documents',
        'Downloads',
        'AppData/Local/Temp',
        'AppData/Roaming/Microsoft/Windows/Recent',
      ]);
      write(`Users/${user}/${where}/f${i}.${random.pick(['docx', 'pdf', 'tmp', 'lnk'])}`, () =>
        random.bytes(random.int(200, 4000)),
      );
    }
  }
  return { files };
}
