import type { YaraStatus } from '../collectors/signature-sweep.js';
import type { Diagnostic } from '../core/diagnostic.js';
import type { Finding } from '../core/finding.js';
import type { YaraEngineChoice, YaraEngineName } from '../matchers/yara-types.js';
import type { IntelSet } from '../packs/intel.js';
import type { FileProblemCode } from './read-file.js';

/** What every sweep worker starts with. */
export interface WorkerInit {
  intel: IntelSet;
  maxYaraBytes: number;
  allFiles: boolean;
  yaraTimeoutMs: number;
  yaraEngine: YaraEngineChoice;
  imageRoot?: string;
}

/** The outcome of sweeping one file. */
export interface FileOutcome {
  path: string;
  size?: number;
  findings: Finding[];
  yara?: YaraStatus;
  problem?: { code: FileProblemCode | 'yara-timed-out' | 'yara-failed' | 'worker-failed'; message: string };
  changed?: 'grew' | 'shrank';
}

export type ToWorker = { type: 'batch'; id: number; paths: string[] };
export type FromWorker =
  | { type: 'ready'; diagnostics: Diagnostic[]; engine: YaraEngineName | undefined }
  /** `retire`: the worker's engine has grown; send it nothing more and replace it. */
  | { type: 'done'; id: number; outcomes: FileOutcome[]; retire: boolean }
  | { type: 'fatal'; message: string };
