import { request } from 'node:http';
import { connect } from 'node:net';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HubEnv, RouteModule } from './http/hub-env.js';
import { readJsonObject } from './http/json-body.js';
import { SECURITY_HEADERS } from './http/security-headers.js';
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

/** Writes `head` on a fresh connection and resolves with everything the server sent before it closed. */
function rawExchange(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => {
      answer += d;
    });
    socket.on('error', (error) => (answer ? resolve(answer) : reject(error)));
    socket.on('close', () => resolve(answer));
    socket.write(head);
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

  it('answers 431 to an oversized query string or header itself: security headers and a JSON error', async () => {
    const { app } = testApp(store.db);
    server = await listenApp(app, '127.0.0.1', 0);
    const { port } = new URL(server.url);
    for (const head of [
      `GET /healthz?q=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
    ]) {
      const answer = await rawExchange(Number(port), head);
      const [statusLine, ...rest] = answer.split('\r\n\r\n')[0]?.split('\r\n') ?? [];
      expect(statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
      const headers = Object.fromEntries(
        rest.map((line) => [
          line.slice(0, line.indexOf(':')).toLowerCase(),
          line.slice(line.indexOf(':') + 1).trim(),
        ]),
      );
      for (const [name, value] of Object.entries(SECURITY_HEADERS))
        expect(headers[name.toLowerCase()]).toBe(value);
      expect(headers['content-type']).toBe('application/json');
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
        error: { code: 'HEADERS_TOO_LARGE' },
      });
    }
    const garbled = await rawExchange(Number(port), 'NOT HTTP AT ALL\r\n\r\n');
    expect(garbled).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(garbled).toContain('X-Frame-Options: DENY');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('answers a path or Host the adapter cannot read with 400, the security headers and a JSON error', async () => {
    const { app } = testApp(store.db);
    server = await listenApp(app, '127.0.0.1', 0);
    const { port } = new URL(server.url);
    for (const head of [
      'GET /console/\\evil.example HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /api/v1/hosts/\\x HTTP/1.1\r\nHost: x\r\n\r\n',
    ]) {
      const answer = await rawExchange(Number(port), head);
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      for (const [name, value] of Object.entries(SECURITY_HEADERS))
        expect(answer.toLowerCase()).toContain(`${name.toLowerCase()}: ${value.toLowerCase()}`);
      expect(answer).toContain('"code":"BAD_REQUEST"');
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
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
