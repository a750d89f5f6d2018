import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packArchive } from '../../src/packs/feed.js';
import { indicatorsFile, makeSignedPack } from '../../src/testing/signed-pack.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Verifies `archive` (on stdin) in a Node process that may read only the built code and its dependencies. */
const SCRIPT = `
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { verifyPack, verifyPackArchive } = await import(process.argv[1] + 'dist/packs/verify-pack.js');
const keyring = JSON.parse(process.argv[2]);
const folder = process.argv[3];
try {
  const pack = folder
    ? await verifyPack(folder, { keyring })
    : await verifyPackArchive(new Uint8Array(Buffer.concat(chunks)), { keyring });
  console.log(JSON.stringify({ id: pack.manifest.id, files: [...pack.files.keys()] }));
} catch (error) {
  console.log(JSON.stringify({ error: error.code, message: error.message }));
}`;

function sandboxed(archive: Buffer, keyring: object[], folder = ''): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [
        '--experimental-permission',
        `--allow-fs-read=${ROOT}dist/*`,
        `--allow-fs-read=${ROOT}node_modules/*`,
        '--no-warnings',
        '--input-type=module',
        '-e',
        SCRIPT,
        ROOT,
        JSON.stringify(keyring),
        folder,
      ],
      { cwd: '/', env: {} },
      (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(JSON.parse(stdout))),
    );
    child.stdin?.end(archive);
  });
}

describe('verifyPackArchive without any file system or environment', () => {
  it('verifies an archive in a process that may read nothing but its own code', async () => {
    const pack = await makeSignedPack('sandboxed', { 'indicators.json': indicatorsFile([]) });
    const archive = packArchive(pack.dir, ['indicators.json']);
    expect(await sandboxed(archive, [pack.key])).toEqual({ id: 'sandboxed', files: ['indicators.json'] });
    // The sandbox does deny file access: the folder verifier, which must read the pack, is stopped by it.
    expect(await sandboxed(Buffer.alloc(0), [pack.key], pack.dir)).toMatchObject({
      message: expect.stringMatching(/manifest\.json cannot be read \(ERR_ACCESS_DENIED\)/),
    });
  });
});
