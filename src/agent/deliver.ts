import { setTimeout as sleep } from 'node:timers/promises';
import { retryDelayMs } from './backoff.js';
import { type UploadAnswer, uploadReport } from './hub-client.js';

/** How uploads are retried within one cycle. */
export interface RetryPolicy {
  /** Retries after the first attempt, per report, before it waits in the spool for the next cycle. */
  retries: number;
  baseMs: number;
  capMs: number;
  /** The longest `Retry-After` waited for; a hub asking for more is tried again next cycle. */
  maxRetryAfterMs: number;
  requestTimeoutMs: number;
}

/** How one report's delivery ended in this cycle. */
export type Delivery =
  | Exclude<UploadAnswer, { kind: 'retry' }>
  | {
      kind: 'later' /** The last HTTP status, 0 when the hub could not be reached. */;
      status: number;
      message: string;
    };

/**
 * Uploads one gzipped report, retrying what may pass later (network errors, 429, 5xx) with exponential backoff
 * and jitter, never sooner than the hub's `Retry-After`. `stop` ends the waiting (not an upload in flight).
 */
export async function deliver(
  hub: string,
  credential: string,
  gzipped: Buffer,
  policy: RetryPolicy,
  stop: AbortSignal,
  log: (line: string) => void,
  label: string,
): Promise<Delivery> {
  for (let attempt = 0; ; attempt++) {
    const answer = await uploadReport(hub, credential, gzipped, { timeoutMs: policy.requestTimeoutMs });
    if (answer.kind !== 'retry') return answer;
    if (attempt >= policy.retries || stop.aborted)
      return { kind: 'later', status: answer.status, message: answer.message };
    if (answer.retryAfterMs !== undefined && answer.retryAfterMs > policy.maxRetryAfterMs)
      return {
        kind: 'later',
        status: answer.status,
        message: `${answer.message}; the hub asks to wait ${Math.ceil(answer.retryAfterMs / 1000)} s (Retry-After)`,
      };
    const backoff = retryDelayMs(attempt, policy.baseMs, policy.capMs);
    const wait = Math.max(backoff, answer.retryAfterMs ?? 0);
    log(
      `upload of ${label}: ${answer.message}; retrying in ${wait < 1000 ? `${wait} ms` : `${(wait / 1000).toFixed(1)} s`}${wait > backoff ? ' (Retry-After)' : ''}`,
    );
    try {
      await sleep(wait, undefined, { signal: stop });
    } catch {
      return {
        kind: 'later',
        status: answer.status,
        message: `${answer.message}; stopped while waiting to retry`,
      };
    }
  }
}
