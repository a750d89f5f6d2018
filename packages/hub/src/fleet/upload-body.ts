import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { Report } from 'chainsweep/core/report.js';
import { DEFAULT_REPORT_BODY_LIMITS, validateReportBody } from 'chainsweep/core/report-body.js';
import type { Context } from 'hono';
import { HttpError } from '../http/http-error.js';
import type { HubConfig, HubEnv } from '../http/hub-env.js';

const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);

/** Most findings one report may carry (the scanner's own `hunt` lists at most as many). */
export const MAX_REPORT_FINDINGS = DEFAULT_REPORT_BODY_LIMITS.maxFindings;

/** An uploaded report: validated, its size once inflated, and its body gzip-compressed for the store. */
export interface UploadedReport {
  report: Report;
  sizeBytes: number;
  gzipBody: Buffer;
}

/**
 * Reads a report upload: `application/json`, optionally `Content-Encoding: gzip` inflated with a bound (a body
 * that inflates past `maxReportBytes` is a 413, however small it came), then `validateReportBody` (400 naming the
 * field). The request body itself is bounded by the app's body limit.
 */
export async function readUploadedReport(
  c: Context<HubEnv>,
  config: Pick<HubConfig, 'maxReportBytes'>,
): Promise<UploadedReport> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type))
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the report as application/json');
  const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip')
    throw new HttpError(415, 'UNSUPPORTED_ENCODING', 'Content-Encoding must be gzip or absent');
  const received = Buffer.from(await c.req.arrayBuffer());
  const tooLarge = () =>
    new HttpError(413, 'TOO_LARGE', `the report is larger than ${config.maxReportBytes} bytes once inflated`);
  let bytes: Buffer;
  if (encoding === 'gzip') {
    try {
      bytes = await gunzipAsync(received, { maxOutputLength: config.maxReportBytes });
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError)
        throw tooLarge();
      throw new HttpError(400, 'INVALID_GZIP', 'the body is not valid gzip');
    }
  } else bytes = received;
  if (bytes.length > config.maxReportBytes) throw tooLarge();
  const result = validateReportBody(bytes, {
    maxBytes: config.maxReportBytes,
    maxFindings: MAX_REPORT_FINDINGS,
  });
  if (!result.ok) {
    if (result.code === 'TOO_LARGE') throw tooLarge();
    throw new HttpError(400, result.code, result.message, result.field ? { field: result.field } : {});
  }
  const gzipBody = encoding === 'gzip' ? received : await gzipAsync(bytes, { level: 1 });
  return { report: result.report, sizeBytes: bytes.length, gzipBody };
}
