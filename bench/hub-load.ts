/** @module A small HTTP load generator for the hub benchmark: keep-alive connections, a request per task. */
import { Agent, request } from 'node:http';

/** One answered request: status, body text and latency in milliseconds. */
export interface Answer {
  status: number;
  body: string;
  ms: number;
  headers: Record<string, string | string[] | undefined>;
}

/** A keep-alive client of one base URL with at most `connections` sockets. */
export class HubClient {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(base: string, connections: number) {
    this.url = new URL(base);
    this.agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  }

  /** Sends one request and reads the whole answer. */
  send(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: Buffer | string,
  ): Promise<Answer> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              ms: performance.now() - started,
              headers: res.headers,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** JSON of a GET that must answer 200. */
  async getJson<T>(path: string, token: string): Promise<T> {
    const answer = await this.send('GET', path, { authorization: `Bearer ${token}` });
    if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status} ${answer.body.slice(0, 300)}`);
    return JSON.parse(answer.body) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `task(i)` for i in [0, n) with `concurrency` tasks in flight; returns each task's latency. */
export async function runPool(
  n: number,
  concurrency: number,
  task: (i: number) => Promise<number>,
): Promise<{ seconds: number; latencies: Float64Array }> {
  const latencies = new Float64Array(n);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      for (let i = next++; i < n; i = next++) latencies[i] = await task(i);
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies };
}

/** The `p`-th percentile (0-100) of `values`, by nearest rank. */
export function percentile(values: Float64Array | number[], p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}
