import { request } from 'node:http';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HubEnv, RouteModule } from './http/hub-env.js';
import { readJsonObject } from './http/json-body.js';
import { type Listening, listenApp } from './serve.js';
import { DIALECTS, openTestStore, type TestStore } from './testing/test-db.js';
import { testApp } from './testing/test-hub.js';

const MAX = 1024 * 1024;

/** A route that answers once the test lets it, to hold a request in flight. */
function heldRoute() {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let entered: () => void = () => undefined;
  const inside = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const module: RouteModule = {
    routes: new Hono<HubEnv>()
      .get('/test/held', async (c) => {
        entered();
        await released;
        return c.json({ done: true });
      })
      .post('/test/echo-size', async (c) => c.json({ keys: Object.keys(await readJsonObject(c)).length })),
    openapi: {},
  };
  return { module, release, inside };
}

/** Streams a chunked body of 64 KiB chunks until the server answers; resolves with the status and bytes sent. */
function streamUntilAnswered(
  url: string,
  path: string,
): Promise<{ status: number; sent: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    let sent = 0;
    let answered = false;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, sent, body });
      });
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.write('{"a": "');
    const pump = () => {
      while (!answered && sent < 256 * MAX) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
    };
    pump();
  });
}

describe.each(DIALECTS)('hub server on %s', (dialect) => {
  let store: TestStore;
  let server: Listening | undefined;
  beforeEach(async () => {
    store = await openTestStore(dialect);
  });
  afterEach(async () => {
    await server?.close(1000);
    server = undefined;
    await store.cleanup();
  });

  it('answers 413 to a chunked body over the limit while it is still streaming in', async () => {
    const held = heldRoute();
    const { app } = testApp(store.db, { config: { maxBodyBytes: MAX }, extra: [held.module] });
    server = await listenApp(app, '127.0.0.1', 0);
    const result = await streamUntilAnswered(server.url, '/test/echo-size');
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'TOO_LARGE' } });
    // The answer came long before the 256 MiB the client was ready to send.
    expect(result.sent).toBeLessThan(64 * MAX);
    const after = await fetch(`${server.url}/healthz`);
    expect(after.status).toBe(200);
    const fits = await fetch(`${server.url}/test/echo-size`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 'x'.repeat(MAX / 2) }),
    });
    expect(await fits.json()).toEqual({ keys: 1 });
  });

  it('lets an in-flight request finish on close, and accepts no new connection', async () => {
    const held = heldRoute();
    const { app } = testApp(store.db, { extra: [held.module] });
    server = await listenApp(app, '127.0.0.1', 0);
    const url = server.url;
    const inFlight = fetch(`${url}/test/held`);
    await held.inside;
    const closed = server.close();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    held.release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    await closed;
  });
});
