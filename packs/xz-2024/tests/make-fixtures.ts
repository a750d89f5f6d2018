/**
 * Writes the crafted fixtures of the xz-2024 pack: look-alikes carrying the documented traits (match/) and clean
 * look-alikes (nomatch/). No malware: every byte here is generated.
 * Run: npx tsx packs/xz-2024/tests/make-fixtures.ts
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function elf(payload: Buffer): Buffer {
  const header = Buffer.alloc(64);
  header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // ELF64, little-endian, version 1
  header.writeUInt16LE(3, 16); // ET_DYN
  header.writeUInt16LE(0x3e, 18); // x86-64
  header.writeUInt32LE(1, 20);
  return Buffer.concat([header, Buffer.alloc(256, 0x90), payload, Buffer.alloc(256, 0xcc)]);
}

const PROLOGUE = Buffer.from('f30f1efa554889f54c89ce5389fb81e7000000804883ec28488954241848894c2410', 'hex');
const M4_BODY = [
  'dnl Copyright (C) 2023-2024 Free Software Foundation, Inc.',
  'AC_DEFUN([gl_BUILD_TO_HOST],',
  '[',
  '  gl_am_configmake=`grep -aErls "#{4}[[:alnum:]]{5}#{4}$" $srcdir/ 2>/dev/null`',
  '  gl_path_map=\'tr "\\t \\-_" " \\t_\\-"\'',
  '])',
  '',
].join('\n');

const fixtures: Record<string, Buffer> = {
  'match/usr/lib/x86_64-linux-gnu/liblzma.so.5.6.1': elf(Buffer.concat([Buffer.from('crc64_resolve\0'), PROLOGUE])),
  'match/killswitch.so': elf(Buffer.from('yolAbejyiejuvnup=Evjtgvsh5okmkAvj\0')),
  'match/m4/build-to-host.m4': Buffer.from(`# build-to-host.m4 serial 30\n${M4_BODY}`),
  'nomatch/liblzma.so.5.4.5': elf(Buffer.from('crc64_resolve\0lzma_code\0')),
  'nomatch/prologue-in-text.txt': Buffer.concat([Buffer.from('hexdump of a talk: '), PROLOGUE]),
  'nomatch/m4/build-to-host.m4': Buffer.from('# build-to-host.m4 serial 3\ndnl Copyright (C) 2023 Free Software Foundation, Inc.\n'),
  'nomatch/notes.txt': Buffer.from('the kill switch is yolAbejyiejuvnup=Evjtgvsh5okmkAvj\n# build-to-host.m4 serial 30\n'),
};

for (const sub of ['match', 'nomatch']) rmSync(join(here, sub), { recursive: true, force: true });
for (const [path, bytes] of Object.entries(fixtures)) {
  mkdirSync(dirname(join(here, path)), { recursive: true });
  writeFileSync(join(here, path), bytes);
}
process.stdout.write(`wrote ${Object.keys(fixtures).length} fixtures\n`);
