import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { UserError } from '../core/errors.js';

export interface FetchOptions {
  /** Longest wait for a connection, and between two pieces of data. */
  timeoutMs?: number;
  /** Longest time for the whole transfer. */
  deadlineMs?: number;
  maxBytes: number;
  headers?: Record<string, string>;
  maxRedirects?: number;
}

export interface FetchResult {
  status: number;
  body: Buffer;
  headers: IncomingHttpHeaders;
  url: string;
}

/** GET over http(s) with timeouts, a size cap, a bounded number of redirects and no other scheme. */
export async function fetchBytes(url: string, options: FetchOptions): Promise<FetchResult> {
  const deadline = Date.now() + (options.deadlineMs ?? 120_000);
  let current = url;
  for (let redirects = 0; ; redirects++) {
    const result = await fetchOnce(current, options, deadline);
    const location = result.headers.location;
    if (result.status >= 300 && result.status < 400 && result.status !== 304 && location) {
      if (redirects >= (options.maxRedirects ?? 5))
        throw new UserError('NETWORK', `${url}: more than ${options.maxRedirects ?? 5} redirects`);
      current = new URL(location, current).href;
      continue;
    }
    return result;
  }
}

function fetchOnce(url: string, options: FetchOptions, deadline: number): Promise<FetchResult> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return Promise.reject(new UserError('NETWORK', `${url}: only http and https are fetched`));
  }
  const request = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const fail = (message: string) => reject(new UserError('NETWORK', `${url}: ${message}`));
    const timer = setTimeout(
      () => {
        req.destroy();
        fail(`no complete answer within ${Math.round((options.deadlineMs ?? 120_000) / 1000)} s`);
      },
      Math.max(0, deadline - Date.now()),
    );
    const req = request(
      parsed,
      { method: 'GET', headers: { 'user-agent': 'chainsweep', ...options.headers } },
      (res) => {
        const declared = Number(res.headers['content-length'] ?? 0);
        if (declared > options.maxBytes) {
          clearTimeout(timer);
          res.destroy();
          fail(`response of ${declared} bytes is over the ${options.maxBytes}-byte limit`);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) {
            clearTimeout(timer);
            res.destroy();
            fail(`response is over the ${options.maxBytes}-byte limit`);
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers, url });
        });
        res.on('error', (error) => {
          clearTimeout(timer);
          fail(error.message);
        });
      },
    );
    req.setTimeout(options.timeoutMs ?? 15_000, () => {
      req.destroy();
      clearTimeout(timer);
      fail(`no data for ${Math.round((options.timeoutMs ?? 15_000) / 1000)} s`);
    });
    req.on('error', (error) => {
      clearTimeout(timer);
      fail(error.message);
    });
    req.end();
  });
}
