import type { YaraStatus } from '../collectors/signature-sweep.js';
import type { Diagnostic } from '../core/diagnostic.js';
import type { Finding } from '../core/finding.js';
import type { HashAlgorithm } from '../core/indicator.js';
import type { IntelSet } from '../core/intel.js';
import type { HostPath } from '../core/paths.js';
import type { FileDigests } from '../matchers/hash-matcher.js';
import type { YaraEngineChoice, YaraEngineName } from '../matchers/yara-types.js';
import type { FileProblemCode } from './read-file.js';

/** What every sweep worker starts with. */
export interface WorkerInit {
  intel: IntelSet;
  maxYaraBytes: number;
  allFiles: boolean;
  yaraTimeoutMs: number;
  yaraEngine: YaraEngineChoice;
  imageRoot?: string;
  /** Files above this size come back unread (`deferred`), to be hashed in parts on several threads. */
  splitAbove: number;
}

export type OutcomeProblem = {
  code: FileProblemCode | 'yara-timed-out' | 'yara-failed' | 'worker-failed';
  message: string;
};

/** The outcome of sweeping one file. */
export interface FileOutcome {
  path: HostPath;
  size?: number;
  findings: Finding[];
  yara?: YaraStatus;
  problem?: OutcomeProblem;
  changed?: 'grew' | 'shrank';
  /** Set when the file was too large to sweep in one piece: hash it in parts. */
  deferredSize?: number;
  /** Executables and libraries only: their digests, kept in the report's facts for the hub's retro-hunt. */
  digests?: FileDigests;
}

/** One share of a large file's hashing: some of the digests, plus its first bytes. */
export interface PartOutcome {
  path: HostPath;
  size?: number;
  digests: FileDigests;
  head?: Uint8Array;
  problem?: OutcomeProblem;
  changed?: 'grew' | 'shrank';
}

/** A file to sweep whole, or (with `algorithms`) one share of a large file's hashing. */
export interface Job {
  /** Text, or the bytes of a path that is not UTF-8 (a `Uint8Array` once it has crossed to the worker). */
  path: HostPath;
  algorithms?: HashAlgorithm[];
  /** A path the user named: read through a symlink at its end (as `find -H`). */
  follow?: true;
  /** YARA on this file ran past the time limit in a worker that was killed for it: sweep it again without YARA. */
  yaraTimedOut?: boolean;
}

/** The worker's file descriptor its YARA watchdog writes a YaraTimeoutRecord to, before it kills the worker. */
export const WATCHDOG_FD = 4;

export type ToWorker = { type: 'init'; init: WorkerInit } | { type: 'batch'; id: number; jobs: Job[] };
export type FromWorker =
  | { type: 'ready'; diagnostics: Diagnostic[]; engine: YaraEngineName | undefined }
  /** `retire`: the worker's engine has grown; send it nothing more and replace it. */
  | { type: 'done'; id: number; outcomes: FileOutcome[]; parts: PartOutcome[]; retire: boolean }
  | { type: 'fatal'; message: string };
