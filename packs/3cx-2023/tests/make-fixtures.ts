/**
 * Writes the crafted fixtures of the 3cx-2023 pack: look-alikes that carry the documented traits (match/) and clean
 * look-alikes that must not match (nomatch/). No malware: every byte here is generated.
 * Run: npx tsx packs/3cx-2023/tests/make-fixtures.ts
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { buildPe, fakePkcs7 } from '../../../src/testing/pe-builder.js';

const here = dirname(fileURLToPath(import.meta.url));

function noise(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function xor(text: string, key: number): Buffer {
  return Buffer.from([...Buffer.from(text, 'latin1')].map((b) => b ^ key));
}

function wide(text: string): Buffer {
  return Buffer.from(`${text}\0`, 'utf16le');
}

function macho(payload: Buffer): Buffer {
  const header = Buffer.alloc(32);
  header.writeUInt32LE(0xfeedfacf, 0); // MH_MAGIC_64
  header.writeUInt32LE(0x0100000c, 4); // CPU_TYPE_ARM64
  header.writeUInt32LE(6, 12); // MH_DYLIB
  return Buffer.concat([header, Buffer.alloc(96), payload, Buffer.alloc(64)]);
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A 32x32 RGBA PNG inside an ICO container, optionally with bytes after the PNG's IEND chunk. */
function ico(trailer: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(32, 0);
  ihdr.writeUInt32BE(32, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const rows = Buffer.concat(Array.from({ length: 32 }, (_, y) => Buffer.concat([Buffer.from([0]), noise(128, y + 1)])));
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
  const image = Buffer.concat([png, trailer]);
  const dir = Buffer.alloc(22);
  dir.writeUInt16LE(0, 0);
  dir.writeUInt16LE(1, 2);
  dir.writeUInt16LE(1, 4);
  dir.set([32, 32, 0, 0], 6);
  dir.writeUInt16LE(1, 10);
  dir.writeUInt16LE(32, 12);
  dir.writeUInt32LE(image.length, 14);
  dir.writeUInt32LE(22, 18);
  return Buffer.concat([dir, image]);
}

const FEEDFACE = Buffer.from([0xfe, 0xed, 0xfa, 0xce]);
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.5359.128 Safari/537.36';
const base64Blob = noise(180, 99).toString('base64').replace(/=+$/, '');

const fixtures: Record<string, Buffer> = {
  // Windows: the signed DLL with an encrypted blob appended inside its certificate table.
  'match/Users/alice/AppData/Local/Programs/3CXDesktopApp/app/d3dcompiler_47.dll': buildPe({
    dll: true,
    exports: ['D3DCompile'],
    certificate: { pkcs7: fakePkcs7(), afterSignature: Buffer.concat([FEEDFACE, FEEDFACE, noise(700, 7)]) },
  }),
  'match/Users/alice/AppData/Local/Programs/3CXDesktopApp/app/ffmpeg.dll': buildPe({
    dll: true,
    exports: ['av_malloc', 'avcodec_open2', 'avformat_open_input'],
    data: Buffer.from('d3dcompiler_47.dll\0\x003jB(2bsG#@c7\0', 'latin1'),
  }),
  'match/samcli.dll': buildPe({
    dll: true,
    exports: ['DllGetClassObject'],
    data: Buffer.concat([wide('https://raw.githubusercontent.com/IconStorages/images/main/icon%d.ico'), wide('__tutma'), wide('__tutmc')]),
  }),
  'match/stealer.dll': buildPe({
    dll: true,
    data: Buffer.concat([
      wide('\\3CXDesktopApp\\config.json'),
      Buffer.from('SELECT url, title FROM urls ORDER BY id DESC LIMIT 500\0', 'latin1'),
    ]),
  }),
  'match/event.exe': buildPe({ data: wide('AVMonitorRefreshEvent') }),
  'match/installer.msi': Buffer.concat([
    Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
    noise(504, 3),
    Buffer.from('3jB(2bsG#@c7', 'latin1'),
    noise(512, 4),
  ]),
  // macOS
  'match/Applications/3CX Desktop App.app/Contents/Frameworks/Electron Framework.framework/Versions/A/Libraries/libffmpeg.dylib':
    macho(Buffer.concat([xor('/System/Library/CoreServices/SystemVersion.plist', 0x7a), Buffer.alloc(8), xor(UA, 0x7a)])),
  'match/Users/alice/Library/Application Support/3CX Desktop App/UpdateAgent': macho(
    Buffer.from('3cx_auth_id=%s;3cx_auth_token_content=%s;__tutma=true\0.main_storage\0config.json\0', 'latin1'),
  ),
  'match/icon3.ico': ico(Buffer.from(`$${base64Blob}`, 'latin1')),

  // Clean look-alikes.
  'nomatch/d3dcompiler_47.dll': buildPe({ dll: true, exports: ['D3DCompile'], certificate: { pkcs7: fakePkcs7() } }),
  'nomatch/d3dcompiler_feedface_in_code.dll': buildPe({
    dll: true,
    data: Buffer.concat([FEEDFACE, FEEDFACE]),
    certificate: { pkcs7: fakePkcs7() },
  }),
  'nomatch/ffmpeg.dll': buildPe({ dll: true, exports: ['av_malloc', 'avcodec_open2'] }),
  'nomatch/libffmpeg.dylib': macho(Buffer.from(`/System/Library/CoreServices/SystemVersion.plist\0${UA}\0`, 'latin1')),
  'nomatch/UpdateAgent': macho(Buffer.from('.main_storage\0config.json\0', 'latin1')),
  'nomatch/icon.ico': ico(Buffer.alloc(0)),
  'nomatch/icon-dollar.ico': ico(Buffer.from('$ok', 'latin1')),
  'nomatch/indicators-as-text.txt': Buffer.from(
    `3jB(2bsG#@c7 IconStorages/images icon%d.ico __tutma __tutmc AVMonitorRefreshEvent\n3cx_auth_id=%s;3cx_auth_token_content=%s;__tutma=true .main_storage\n`,
  ),
};

for (const sub of ['match', 'nomatch']) rmSync(join(here, sub), { recursive: true, force: true });
for (const [path, bytes] of Object.entries(fixtures)) {
  mkdirSync(dirname(join(here, path)), { recursive: true });
  writeFileSync(join(here, path), bytes);
}
process.stdout.write(`wrote ${Object.keys(fixtures).length} fixtures\n`);
