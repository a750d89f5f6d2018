import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';

/** Where `npm run build` puts the console (packages/hub/dist/web), from this module in src/ or in dist/. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.png': 'image/png',
};

/** One built file, with its compressed forms and its ETag. */
export interface ConsoleAsset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  brotli: Buffer;
  etag: string;
}

/**
 * The built console read once, at start, into memory (it is small): every file under `dir` by its URL path below
 * /console/, compressed ahead of time. Undefined when the console is not built.
 */
export function loadConsoleAssets(dir = CONSOLE_DIR): Map<string, ConsoleAsset> | undefined {
  if (!existsSync(join(dir, 'index.html'))) return undefined;
  const assets = new Map<string, ConsoleAsset>();
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const file = join(folder, name);
      if (statSync(file).isDirectory()) walk(file);
      else {
        const type = TYPES[extname(name)];
        if (!type) continue;
        const body = readFileSync(file);
        assets.set(relative(dir, file).split(sep).join('/'), {
          type,
          body,
          gzip: gzipSync(body, { level: 9 }),
          brotli: brotliCompressSync(body),
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        });
      }
    }
  };
  walk(dir);
  return assets;
}
