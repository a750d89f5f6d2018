import { posix } from 'node:path';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { AffectedAppSchema, IndicatorSchema } from '../core/indicator.js';
import {
  countIntel,
  type IntelSet,
  type PackedApp,
  type PackedIndicator,
  type YaraSource,
} from '../core/intel.js';
import { findIncludes } from '../matchers/yara-includes.js';
import type { VerifiedPackContent } from './verify-pack.js';

const SourceSchema = z.object({ title: z.string(), url: z.string() });
/** `indicators.json`: indicators plus the table of sources their `sources` codes point to. */
export const IndicatorFileSchema = z.object({
  schemaVersion: z.literal(1),
  sources: z.record(z.string(), SourceSchema).default({}),
  indicators: z.array(IndicatorSchema),
});
/** `apps.json`: the products and versions the incident concerns. */
export const AppsFileSchema = z.object({ schemaVersion: z.literal(1), apps: z.array(AffectedAppSchema) });

export const INDICATORS_FILE = 'indicators.json';
export const APPS_FILE = 'apps.json';
const YARA_EXTENSIONS = new Set(['.yar', '.yara']);

/**
 * Refuses a pack whose rule files use `include`: what it names lies outside the signed manifest, so the signature
 * would not cover what runs. One line naming the pack, file and line.
 */
export function refuseIncludes(packId: string, files: ReadonlyMap<string, Buffer>): void {
  for (const [path, bytes] of files) {
    if (!YARA_EXTENSIONS.has(posix.extname(path).toLowerCase())) continue;
    const include = findIncludes(bytes.toString('utf8'))[0];
    if (include)
      throw new UserError(
        'PACK_INVALID',
        `pack ${packId}: ${path}:${include.line}: include ${JSON.stringify(include.target ?? '')} is not allowed: a pack's rules may use only the pack's own files`,
      );
  }
}

/**
 * Turns a verified pack's files into indicators, apps and YARA sources (other files are ignored): the IntelSet
 * the matchers compile, the same for a pack folder (`verifyPack`) and an archive in memory (`verifyPackArchive`).
 */
export function readPackContent(pack: VerifiedPackContent): IntelSet {
  const packId = pack.manifest.id;
  const indicators: PackedIndicator[] = [];
  const apps: PackedApp[] = [];
  const yara: YaraSource[] = [];

  for (const [path, bytes] of pack.files) {
    if (path === INDICATORS_FILE) {
      const file = parseContent(IndicatorFileSchema, bytes, packId, path);
      for (const indicator of file.indicators) {
        const fromSources = (indicator.sources ?? []).map((code) => {
          const source = file.sources[code];
          if (!source)
            throw new UserError(
              'PACK_INVALID',
              `pack ${packId}: ${path}: ${indicator.id}: unknown source ${JSON.stringify(code)}`,
            );
          return source.url;
        });
        indicators.push({
          ...indicator,
          references: [...new Set([...indicator.references, ...fromSources])],
          packId,
        });
      }
    } else if (path === APPS_FILE) {
      for (const app of parseContent(AppsFileSchema, bytes, packId, path).apps) apps.push({ ...app, packId });
    } else if (YARA_EXTENSIONS.has(posix.extname(path).toLowerCase())) {
      yara.push({
        packId,
        file: `${packId}/${path}`,
        namespace: `${packId}/${path}`,
        text: bytes.toString('utf8'),
      });
    }
  }

  const m = pack.manifest;
  return {
    packs: [
      {
        id: packId,
        title: m.title,
        sequence: m.sequence,
        signed: true,
        keyId: pack.keyId,
        digest: pack.digest,
        expiresAt: m.expires,
        stale: pack.stale,
        counts: countIntel({ indicators, apps, yara }),
      },
    ],
    indicators,
    apps,
    yara,
  };
}

function parseContent<T>(schema: z.ZodType<T>, bytes: Buffer, packId: string, path: string): T {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new UserError('PACK_INVALID', `pack ${packId}: ${path}: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') ?? '';
    throw new UserError(
      'PACK_INVALID',
      `pack ${packId}: ${path}: ${where.replace(/^\./, '')}: ${issue?.message}`,
    );
  }
  return parsed.data;
}
