import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, UserError } from '../core/errors.js';
import { keyValidityProblem } from './keyring.js';
import { type TrustedKey, verifyBytes } from './keys.js';
import {
  MANIFEST_FILE,
  type PackManifest,
  PackManifestSchema,
  SIGNATURE_FILE,
  SignatureFileSchema,
} from './manifest.js';
import { refuseIncludes } from './pack-content.js';

/** A pack whose signature, file sizes and digests have all been checked; only these bytes are ever used. */
export interface VerifiedPack {
  dir: string;
  manifest: PackManifest;
  keyId: string;
  /** SHA-256 of the exact manifest bytes: the pack's identity in reports. */
  digest: string;
  /** True when the pack is past its expiry date. */
  stale: boolean;
  files: ReadonlyMap<string, Buffer>;
}

export interface VerifyOptions {
  keyring: readonly TrustedKey[];
  now?: Date;
  /** Refuse an expired pack instead of warning. */
  requireFresh?: boolean;
}

/** Reads and verifies the pack in `dir`; throws a one-line UserError naming the pack and the file at fault. */
export async function verifyPack(dir: string, options: VerifyOptions): Promise<VerifiedPack> {
  const now = options.now ?? new Date();
  const manifestBytes = await readPackFile(dir, MANIFEST_FILE);
  const signature = parseJson(await readPackFile(dir, SIGNATURE_FILE), dir, SIGNATURE_FILE);
  const sig = SignatureFileSchema.safeParse(signature);
  if (!sig.success) throw new UserError('PACK_SIGNATURE', `pack ${dir}: ${SIGNATURE_FILE} is malformed`);

  const key = options.keyring.find((k) => k.keyId === sig.data.keyId);
  if (!key) {
    throw new UserError(
      'PACK_UNKNOWN_KEY',
      `pack ${dir}: signed by unknown key ${sig.data.keyId.slice(0, 16)}…`,
    );
  }
  const keyProblem = keyValidityProblem(key, now);
  if (keyProblem) throw new UserError('PACK_UNKNOWN_KEY', `pack ${dir}: ${keyProblem}`);
  if (!verifyBytes(manifestBytes, sig.data.signature, key)) {
    throw new UserError(
      'PACK_SIGNATURE',
      `pack ${dir}: ${MANIFEST_FILE} does not match its signature (tampered or wrong key)`,
    );
  }

  const parsed = PackManifestSchema.safeParse(parseJson(manifestBytes, dir, MANIFEST_FILE));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(
      'PACK_INVALID',
      `pack ${dir}: ${MANIFEST_FILE}: ${issue?.path.join('.')}: ${issue?.message}`,
    );
  }
  const manifest = parsed.data;

  const files = new Map<string, Buffer>();
  for (const entry of manifest.files) {
    const bytes = await readPackFile(dir, entry.path);
    if (bytes.length !== entry.size) {
      throw new UserError(
        'PACK_TAMPERED',
        `pack ${manifest.id}: file ${entry.path} is ${bytes.length} bytes, manifest says ${entry.size} (tampered)`,
      );
    }
    if (createHash('sha256').update(bytes).digest('hex') !== entry.sha256) {
      throw new UserError(
        'PACK_TAMPERED',
        `pack ${manifest.id}: file ${entry.path} does not match its SHA-256 (tampered)`,
      );
    }
    files.set(entry.path, bytes);
  }
  refuseIncludes(manifest.id, files);

  const stale = new Date(manifest.expires) < now;
  if (stale && options.requireFresh) {
    throw new UserError('PACK_EXPIRED', `pack ${manifest.id}: expired on ${manifest.expires}`);
  }
  return {
    dir,
    manifest,
    keyId: key.keyId,
    digest: createHash('sha256').update(manifestBytes).digest('hex'),
    stale,
    files,
  };
}

async function readPackFile(dir: string, path: string): Promise<Buffer> {
  try {
    return await readFile(join(dir, path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? errorMessage(error)})`;
    throw new UserError(
      path === MANIFEST_FILE ? 'PACK_INVALID' : 'PACK_TAMPERED',
      `pack ${dir}: file ${path} ${why}`,
    );
  }
}

function parseJson(bytes: Buffer, dir: string, file: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new UserError('PACK_INVALID', `pack ${dir}: ${file}: ${errorMessage(error)}`);
  }
}
