import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { parseRetryAfter } from './backoff.js';

/** The most of a hub's answer the agent reads: enough for any JSON it should send, bounded against one that floods. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** What the hub said to one upload. */
export type UploadAnswer =
  | { kind: 'accepted'; status: number; duplicate: boolean }
  /** Permanent: this report will never be taken (400 invalid, 413 too large). */
  | { kind: 'rejected'; status: number; message: string }
  /** The credential is unknown or revoked. */
  | { kind: 'unauthorized'; status: number; message: string }
  /** Worth trying again later: the hub is down, busy, or answered something unexpected. */
  | { kind: 'retry'; status: number; message: string; retryAfterMs?: number };

const EnrolAnswerSchema = z.object({
  agentId: z.string().min(1).max(200),
  hostId: z.string().min(1).max(200),
  credential: z.string().regex(/^[\x21-\x7e]{8,1024}$/, 'must be 8 to 1024 printable ASCII characters'),
});
export type EnrolAnswer = z.infer<typeof EnrolAnswerSchema>;

/** How long one request to the hub may take. */
export interface HubRequestOptions {
  timeoutMs: number;
}

/**
 * `POST /api/v1/enrol`: trades an enrolment token for this host's credential. A refused token is a UserError
 * (nothing will change until someone gives a good one); a hub that cannot be reached is a NETWORK UserError.
 */
export async function enrol(
  hub: string,
  body: { token: string; hostId: string; hostname: string },
  options: HubRequestOptions,
): Promise<EnrolAnswer> {
  const url = new URL('api/v1/enrol', hub).href;
  const response = await post(
    url,
    Buffer.from(JSON.stringify(body)),
    { 'content-type': 'application/json' },
    options,
  );
  let text: string;
  try {
    text = await boundedText(response);
  } catch (error) {
    throw new UserError('NETWORK', `${url}: the answer broke off: ${describeFailure(error, options)}`);
  }
  if (response.status === 401 || response.status === 403)
    throw new UserError(
      'USAGE',
      `agent: the hub refused the enrolment token (unknown, revoked or expired): ${hubMessage(text, response.status)}`,
    );
  if (response.status !== 201 && response.status !== 200) {
    // Another 4xx will not pass by waiting (a wrong URL, a body the hub refuses); 408, 429 and 5xx may.
    const lasting = response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status);
    throw new UserError(
      lasting ? 'USAGE' : 'NETWORK',
      `agent: enrolment at ${url} failed: ${hubMessage(text, response.status)}`,
    );
  }
  let parsed: z.ZodSafeParseResult<EnrolAnswer>;
  try {
    parsed = EnrolAnswerSchema.safeParse(JSON.parse(text));
  } catch {
    throw new UserError('NETWORK', `agent: enrolment at ${url}: the answer is not JSON`);
  }
  if (!parsed.success)
    throw new UserError(
      'NETWORK',
      `agent: enrolment at ${url}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
    );
  return parsed.data;
}

/** `POST /api/v1/reports` with one gzipped report; never throws for what the hub or the network does. */
export async function uploadReport(
  hub: string,
  credential: string,
  gzipped: Buffer,
  options: HubRequestOptions,
): Promise<UploadAnswer> {
  let response: Response;
  try {
    response = await post(
      new URL('api/v1/reports', hub).href,
      gzipped,
      {
        authorization: `Bearer ${credential}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      options,
    );
  } catch (error) {
    return { kind: 'retry', status: 0, message: (error as Error).message };
  }
  let text: string;
  try {
    text = await boundedText(response);
  } catch (error) {
    return {
      kind: 'retry',
      status: response.status,
      message: `HTTP ${response.status}, then the answer broke off: ${describeFailure(error, options)}`,
    };
  }
  const status = response.status;
  if (status === 202 || status === 200) {
    let duplicate = false;
    try {
      duplicate = (JSON.parse(text) as { duplicate?: unknown }).duplicate === true;
    } catch {
      // the status is what counts
    }
    return { kind: 'accepted', status, duplicate };
  }
  const message = hubMessage(text, status);
  if (status === 400 || status === 413 || status === 422) return { kind: 'rejected', status, message };
  if (status === 401) return { kind: 'unauthorized', status, message };
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  return { kind: 'retry', status, message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}

/**
 * One POST that never follows a redirect (the credential goes to the hub it was given for, nowhere else) and
 * gives up after `timeoutMs`. Network failures are NETWORK UserErrors in one line.
 */
async function post(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  options: HubRequestOptions,
): Promise<Response> {
  try {
    return await fetch(url, {
      method: 'POST',
      body,
      headers: { 'user-agent': 'chainsweep-agent', ...headers },
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    throw new UserError('NETWORK', `${url}: ${describeFailure(error, options)}`);
  }
}

/** Why a request failed, in a few words: a timeout, or the system's error code. */
function describeFailure(error: unknown, options: HubRequestOptions): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return (error as Error).name === 'TimeoutError'
    ? `no complete answer within ${Math.round(options.timeoutMs / 1000)} s`
    : (cause?.code ?? cause?.message ?? (error as Error).message);
}

/** The answer's body as text, at most MAX_ANSWER_BYTES of it. */
async function boundedText(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= MAX_ANSWER_BYTES) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
}

/** The hub's error in one printable line: `CODE: message (field)` from its JSON, else the status and text. */
export function hubMessage(text: string, status: number): string {
  let line = '';
  try {
    const error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown; field?: unknown } })
      .error;
    if (error && typeof error.message === 'string')
      line = `${typeof error.code === 'string' ? `${error.code}: ` : ''}${error.message}${typeof error.field === 'string' ? ` (${error.field})` : ''}`;
  } catch {
    // not the hub's JSON
  }
  if (!line) line = text.trim() ? text : 'no message';
  const printable = line.replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, ' ').trim();
  return `HTTP ${status}: ${printable.length > 300 ? `${printable.slice(0, 300)}…` : printable}`;
}
