import { createHash } from 'node:crypto';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import { errorMessage, UserError } from '../core/errors.js';
import { loadPrivateKey, signBytes } from './keys.js';
import {
  MANIFEST_FILE,
  type PackManifest,
  PackManifestSchema,
  SIGNATURE_FILE,
  type SignatureFile,
} from './manifest.js';
import { refuseIncludes } from './pack-content.js';

/** The fields an author writes; `sign` fills in files, dates and sequence. */
const ManifestDraftSchema = PackManifestSchema.pick({ id: true, title: true, references: true }).extend({
  sequence: z.number().int().nonnegative().optional(),
});

export interface SignOptions {
  privateKeyPem: string;
  keySource: string;
  /** Default: one more than the manifest's current sequence. */
  sequence?: number;
  now?: Date;
  /** Days until the pack counts as stale. */
  expiresInDays?: number;
  /** Checks the content before anything is written; throws to refuse signing. */
  validate?: (manifest: PackManifest, files: ReadonlyMap<string, Buffer>) => void;
}

/** Folders and files of a pack folder that are never part of the pack. */
const NOT_CONTENT = new Set([MANIFEST_FILE, SIGNATURE_FILE, 'tests']);

/** Lists every content file of `dir`, writes `manifest.json` with digests and sizes, and signs it. */
export async function signPack(dir: string, options: SignOptions): Promise<PackManifest> {
  const { privateKey, keyId } = loadPrivateKey(options.privateKeyPem, options.keySource);
  const draft = await readDraft(dir);
  const now = options.now ?? new Date();
  const expires = new Date(now.getTime() + (options.expiresInDays ?? 365) * 86_400_000);

  const files = [];
  const contents = new Map<string, Buffer>();
  for (const path of await listContentFiles(dir)) {
    const bytes = await readFile(join(dir, path));
    contents.set(path, bytes);
    files.push({ path, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length });
  }
  const manifest: PackManifest = {
    schemaVersion: 1,
    id: draft.id,
    title: draft.title,
    sequence: options.sequence ?? (draft.sequence ?? 0) + 1,
    published: now.toISOString(),
    expires: expires.toISOString(),
    references: draft.references,
    files,
  };
  refuseIncludes(draft.id, contents);
  options.validate?.(manifest, contents);
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  const signature: SignatureFile = { keyId, signature: signBytes(manifestBytes, privateKey) };
  await writeAtomically(join(dir, MANIFEST_FILE), manifestBytes);
  await writeAtomically(join(dir, SIGNATURE_FILE), Buffer.from(`${JSON.stringify(signature, null, 2)}\n`));
  return manifest;
}

async function readDraft(dir: string): Promise<z.infer<typeof ManifestDraftSchema>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
  } catch (error) {
    throw new UserError('PACK_INVALID', `pack ${dir}: ${MANIFEST_FILE}: ${errorMessage(error)}`);
  }
  const parsed = ManifestDraftSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(
      'PACK_INVALID',
      `pack ${dir}: ${MANIFEST_FILE}: ${issue?.path.join('.')}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

async function listContentFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const pending = [dir];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      const path = relative(dir, full).split(sep).join('/');
      if (entry.name.startsWith('.') || (current === dir && NOT_CONTENT.has(entry.name))) continue;
      if (entry.isDirectory()) pending.push(full);
      else if (entry.isFile()) found.push(path);
      else throw new UserError('PACK_INVALID', `pack ${dir}: ${path} is not a regular file`);
    }
  }
  return found.sort();
}

async function writeAtomically(path: string, bytes: Buffer): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, bytes);
  await rename(temp, path);
}
