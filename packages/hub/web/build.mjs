// Builds the console into packages/hub/dist/web: the app and its service worker bundled and minified by esbuild
// (Preact, no CDN, no font), the stylesheet, the HTML shell, the web app manifest and its PNG icons.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '../dist/web');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const common = {
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  legalComments: 'none',
  logLevel: 'warning',
};
await build({
  ...common,
  entryPoints: [join(here, 'src/main.tsx')],
  outfile: join(out, 'assets/app.js'),
  jsx: 'automatic',
  jsxImportSource: 'preact',
});
await build({ ...common, entryPoints: [join(here, 'src/app.css')], outfile: join(out, 'assets/app.css') });
// The service worker's cache is named after the shell it caches, so a new build replaces the old shell.
const shell = createHash('sha256');
for (const file of ['assets/app.js', 'assets/app.css']) shell.update(readFileSync(join(out, file)));
await build({
  ...common,
  entryPoints: [join(here, 'src/sw.ts')],
  outfile: join(out, 'sw.js'),
  define: { SHELL_VERSION: JSON.stringify(shell.digest('hex').slice(0, 12)) },
});
for (const file of ['index.html', 'manifest.webmanifest'])
  copyFileSync(join(here, 'static', file), join(out, file));
for (const size of [192, 512]) writeFileSync(join(out, `assets/icon-${size}.png`), iconPng(size));

/** The console's icon: a shield-blue square with a white check mark, as a PNG of `size` pixels. */
function iconPng(size) {
  const rows = [];
  for (let y = 0; y < size; y += 1) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x += 1) {
      const u = x / size;
      const v = y / size;
      const mark = onCheck(u, v);
      const [r, g, b] = mark ? [255, 255, 255] : [22, 78, 138];
      row.set([r, g, b, 255], 1 + x * 4);
    }
    rows.push(row);
  }
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function onCheck(u, v) {
  const near = (ax, ay, bx, by) => {
    const t = Math.max(
      0,
      Math.min(1, ((u - ax) * (bx - ax) + (v - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)),
    );
    return Math.hypot(u - (ax + t * (bx - ax)), v - (ay + t * (by - ay))) < 0.06;
  };
  return near(0.28, 0.52, 0.44, 0.68) || near(0.44, 0.68, 0.74, 0.34);
}

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k += 1) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
