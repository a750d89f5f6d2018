import { matchFacts, wantsYara } from '../collectors/signature-sweep.js';
import type { HashAlgorithm } from '../core/indicator.js';
import type { IntelSet } from '../core/intel.js';
import { type HostPath, pathKey } from '../core/paths.js';
import { FilenameMatcher } from '../matchers/filename-matcher.js';
import { type FileDigests, HashMatcher } from '../matchers/hash-matcher.js';
import { imagePathOf } from './image-path.js';
import type { FileOutcome, Job, PartOutcome } from './protocol.js';

/** Relative cost per byte of each digest with OpenSSL on x86-64 (SHA-256 has CPU instructions, MD5 has none). */
const COST: Record<HashAlgorithm, number> = { md5: 1.5, sha1: 1, sha256: 0.6 };

interface Pending {
  parts: number;
  digests: FileDigests;
  size?: number;
  head?: Uint8Array;
  problem?: PartOutcome['problem'];
  changed?: PartOutcome['changed'];
}

/**
 * Large files (too big for YARA, so only hashed) are hashed in parts, one group of digest algorithms per thread,
 * so a few huge files do not leave the other cores idle. The parts come back here and are matched as one file.
 */
export class SplitFiles {
  private readonly pending = new Map<string, Pending>();
  private readonly hashes: HashMatcher;
  private readonly names: FilenameMatcher;
  private readonly groups: HashAlgorithm[][];

  constructor(
    intel: IntelSet,
    threads: number,
    private readonly options: {
      allFiles: boolean;
      imageRoot: string | undefined;
      hasYaraRules: () => boolean;
    },
  ) {
    this.hashes = new HashMatcher(intel.indicators);
    this.names = new FilenameMatcher(intel.indicators);
    this.groups = balance([...this.hashes.algorithms], threads);
  }

  /** True when splitting can help: more than one thread and more than one digest to compute. */
  get worthwhile(): boolean {
    return this.groups.length > 1;
  }

  get inProgress(): number {
    return this.pending.size;
  }

  /** The part jobs for a deferred file. */
  plan(path: HostPath, follow?: true): Job[] {
    this.pending.set(pathKey(path), { parts: this.groups.length, digests: {} });
    return this.groups.map((algorithms) => ({ path, algorithms, ...(follow ? { follow } : {}) }));
  }

  /** Records one part; returns the file's outcome once every part is in. */
  add(part: PartOutcome): FileOutcome | undefined {
    const key = pathKey(part.path);
    const state = this.pending.get(key);
    if (!state) return undefined;
    Object.assign(state.digests, part.digests);
    if (part.size !== undefined && (state.size === undefined || part.size > state.size))
      state.size = part.size;
    if (part.head && !state.head) state.head = part.head;
    if (part.problem && !state.problem) state.problem = part.problem;
    if (part.changed && !state.changed) state.changed = part.changed;
    if (--state.parts > 0) return undefined;
    this.pending.delete(key);
    if (state.problem || state.size === undefined) {
      return {
        path: part.path,
        findings: [],
        problem: state.problem ?? { code: 'io-error', message: 'no part was read' },
      };
    }
    const imagePath = imagePathOf(part.path, this.options.imageRoot);
    const input = {
      path: part.path,
      size: state.size,
      digests: state.digests,
      head: state.head ?? new Uint8Array(),
      ...(imagePath ? { imagePath } : {}),
    };
    const yara = !this.options.hasYaraRules()
      ? 'no-rules'
      : wantsYara(input, { allFiles: this.options.allFiles })
        ? 'too-large'
        : 'not-malware-type';
    return {
      path: part.path,
      size: state.size,
      findings: matchFacts(input, this.hashes, this.names),
      yara,
      ...(state.changed ? { changed: state.changed } : {}),
    };
  }
}

/** Splits the algorithms into at most `threads` groups of about equal cost. */
function balance(algorithms: HashAlgorithm[], threads: number): HashAlgorithm[][] {
  const groups: { algorithms: HashAlgorithm[]; cost: number }[] = [];
  for (const algorithm of [...algorithms].sort((a, b) => COST[b] - COST[a])) {
    if (groups.length < threads) groups.push({ algorithms: [algorithm], cost: COST[algorithm] });
    else {
      const lightest = groups.reduce((a, b) => (b.cost < a.cost ? b : a));
      lightest.algorithms.push(algorithm);
      lightest.cost += COST[algorithm];
    }
  }
  return groups.map((g) => g.algorithms);
}
