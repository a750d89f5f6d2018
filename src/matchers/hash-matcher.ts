import { HASH_KINDS, type HashAlgorithm } from '../core/indicator.js';
import type { PackedIndicator } from '../core/intel.js';

/** Hex digests of one file, for the algorithms that were computed. */
export type FileDigests = Partial<Record<HashAlgorithm, string>>;

/** Exact-digest lookup over every hash indicator; knows which algorithms are worth computing. */
export class HashMatcher {
  private readonly byDigest = new Map<string, PackedIndicator[]>();
  /** The algorithms at least one indicator uses. */
  readonly algorithms: ReadonlySet<HashAlgorithm>;

  constructor(indicators: readonly PackedIndicator[]) {
    const algorithms = new Set<HashAlgorithm>();
    for (const indicator of indicators) {
      const algorithm = HASH_KINDS.find((k) => k === indicator.kind);
      if (!algorithm) continue;
      algorithms.add(algorithm);
      const key = `${algorithm}:${indicator.value.toLowerCase()}`;
      const list = this.byDigest.get(key);
      if (list) list.push(indicator);
      else this.byDigest.set(key, [indicator]);
    }
    this.algorithms = algorithms;
  }

  /** Every indicator whose digest equals one of `digests`. */
  match(digests: FileDigests): PackedIndicator[] {
    const hits: PackedIndicator[] = [];
    for (const algorithm of HASH_KINDS) {
      const digest = digests[algorithm];
      if (digest) hits.push(...(this.byDigest.get(`${algorithm}:${digest}`) ?? []));
    }
    return hits;
  }
}
