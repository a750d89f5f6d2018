import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activeMarkupIn, XSS_PAYLOADS } from '../../advisories/xss-corpus.js';
import type { Db } from '../../store/db.js';
import { DIALECTS, openTestStore, type TestStore } from '../../testing/test-db.js';
import { type SeededOrg, seedOrg, type TestApp, testApp } from '../../testing/test-hub.js';
import { addEmailReply, type TicketEvent, ticketRoutes } from './index.js';

// biome-ignore lint/suspicious/noExplicitAny: test JSON is read loosely
type Json = Record<string, any>;
const NOTE = 'INTERNAL-NOTE-7f3a: customer is on the old build';
const NOTE_FILE = Buffer.from('internal note attachment 7f3a');

describe.each(DIALECTS)('ticket security on %s', (dialect) => {
  let store: TestStore;
  let hub: TestApp;
  let vendor: SeededOrg;
  let a: SeededOrg;
  let b: SeededOrg;
  let events: TicketEvent[];
  let clock: Date;
  const appOver = (db: Db) => {
    const deps = testApp(db).deps;
    const module = ticketRoutes({ ...deps, now: () => clock }, async (_tx, event) => {
      events.push(event);
    });
    return testApp(db, { extra: [module], now: () => clock });
  };
  const call = (method: string, path: string, token: string, body?: unknown) =>
    hub.app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const json = async (res: Response | Promise<Response>) => (await (await res).json()) as Json;
  const staff = () => vendor.apiTokens['vendor-staff'];
  const memberA = () => a.apiTokens['org-member'];
  const memberB = () => b.apiTokens['org-member'];
  const open = async (token: string, body: Json = {}) => {
    const res = await call('POST', '/api/v1/tickets', token, {
      incident: '3cx-2023',
      subject: 'DLL',
      ...body,
    });
    expect(res.status).toBe(201);
    return (await json(res)).ticket as Json;
  };
  const file = (name: string, bytes: Buffer) => ({ name, contentBase64: bytes.toString('base64') });

  beforeEach(async () => {
    store = await openTestStore(dialect);
    events = [];
    clock = new Date('2026-12-01T10:00:00Z');
    hub = appOver(store.db);
    vendor = await seedOrg(store.db, 'Vendor');
    a = await seedOrg(store.db, 'Acme');
    b = await seedOrg(store.db, 'Beta');
    await call('POST', '/api/v1/incidents', staff(), { slug: '3cx-2023', title: '3CX', freeTickets: 10 });
  });
  afterEach(() => store.cleanup());

  it('follows the transition table, reopens on a customer reply, and logs every state change', async () => {
    const t = await open(memberA());
    const state = (token: string, to: unknown) =>
      call('POST', `/api/v1/tickets/${t.id}/state`, token, { to });
    expect((await state(staff(), 'open')).status).toBe(200);
    expect((await state(memberA(), 'pending')).status).toBe(403);
    expect((await state(staff(), 'pending')).status).toBe(200);
    await call('POST', `/api/v1/tickets/${t.id}/messages`, memberA(), { body: 'here are the logs' });
    expect((await json(call('GET', `/api/v1/tickets/${t.id}`, memberA()))).ticket.state).toBe('open');
    expect((await state(memberA(), 'resolved')).status).toBe(200);
    const again = await state(memberA(), 'resolved');
    expect(again.status).toBe(409);
    expect((await json(again)).error.field).toBe('to');
    expect((await state(staff(), 'closed')).status).toBe(200);
    const closed = await state(staff(), 'open');
    expect(closed.status).toBe(409);
    expect((await json(closed)).error).toMatchObject({ code: 'INVALID_TRANSITION', field: 'to' });
    expect((await call('POST', `/api/v1/tickets/${t.id}/messages`, memberA(), { body: 'x' })).status).toBe(
      409,
    );
    const audit = (await json(call('GET', `/api/v1/tickets/${t.id}/audit`, memberA()))).audit as Json[];
    expect(audit.filter((e) => e.kind === 'state').map((e) => [e.before, e.after])).toEqual([
      ['new', 'open'],
      ['open', 'pending'],
      ['pending', 'open'],
      ['open', 'resolved'],
      ['resolved', 'closed'],
    ]);
    expect(audit.map((e) => e.seq)).toEqual(audit.map((_, i) => i + 1));
    expect(events.map((e) => e.kind)).toEqual([
      'created',
      'state',
      'state',
      'message',
      'state',
      'state',
      'state',
    ]);
  });

  it('keeps the audit log and ledger append-only in the database itself', async () => {
    const t = await open(memberA());
    await expect(
      store.db.run("UPDATE ticket_audit SET kind = 'x' WHERE ticket_id = ?", [t.id]),
    ).rejects.toThrow(/append-only/);
    await expect(store.db.run('DELETE FROM ticket_ledger WHERE ticket_id = ?', [t.id])).rejects.toThrow(
      /append-only/,
    );
  });

  it('runs the SLA clocks per priority and flags a breach', async () => {
    const t = await open(memberA(), { priority: 'urgent' });
    expect(t.sla.firstResponse).toMatchObject({
      dueAt: '2026-12-01T11:00:00.000Z',
      at: null,
      breached: false,
    });
    expect(t.sla.resolution.dueAt).toBe('2026-12-01T18:00:00.000Z');
    clock = new Date('2026-12-01T12:00:00Z');
    await call('POST', `/api/v1/tickets/${t.id}/messages`, staff(), { body: 'looking', internal: true });
    let seen = (await json(call('GET', `/api/v1/tickets/${t.id}`, memberA()))).ticket;
    expect(seen.sla.firstResponse).toMatchObject({ at: null, breached: true });
    await call('POST', `/api/v1/tickets/${t.id}/messages`, staff(), { body: 'on it' });
    seen = (await json(call('GET', `/api/v1/tickets/${t.id}`, memberA()))).ticket;
    expect(seen.sla.firstResponse).toMatchObject({ at: '2026-12-01T12:00:00.000Z', breached: true });
    expect(seen.sla.resolution.breached).toBe(false);
  });

  it('never shows an internal note, its attachment or its audit entries to the customer', async () => {
    const t = await open(memberA());
    const before = (await json(call('GET', `/api/v1/tickets/${t.id}`, memberA()))).ticket.updatedAt;
    clock = new Date('2026-12-01T11:00:00Z');
    const note = await call('POST', `/api/v1/tickets/${t.id}/messages`, staff(), {
      body: NOTE,
      internal: true,
      attachments: [file('note.txt', NOTE_FILE)],
    });
    expect(note.status).toBe(201);
    const hash = (await json(note)).message.attachments[0].sha256;
    expect(
      (await call('POST', `/api/v1/tickets/${t.id}/messages`, memberA(), { body: 'x', internal: true }))
        .status,
    ).toBe(403);
    const staffView = await (await call('GET', `/api/v1/tickets/${t.id}`, staff())).text();
    expect(staffView).toContain(NOTE);
    for (const token of [memberA(), a.apiTokens['org-admin']])
      for (const path of [
        `/api/v1/tickets/${t.id}`,
        '/api/v1/tickets',
        `/api/v1/tickets?incident=3cx-2023`,
        `/api/v1/tickets/${t.id}/audit`,
        '/api/v1/incidents/3cx-2023/quota',
      ]) {
        const text = await (await call('GET', path, token)).text();
        expect({ path, note: text.includes(NOTE) || text.includes(hash) || text.includes('note') }).toEqual({
          path,
          note: false,
        });
      }
    expect((await call('GET', `/api/v1/tickets/${t.id}`, memberA())).status).toBe(200);
    expect((await json(call('GET', `/api/v1/tickets/${t.id}`, memberA()))).ticket.updatedAt).toBe(before);
    expect((await call('GET', `/api/v1/tickets/${t.id}/attachments/${hash}`, memberA())).status).toBe(404);
    expect((await call('GET', `/api/v1/tickets/${t.id}/attachments/${hash}`, staff())).status).toBe(200);
    expect(events.map((e) => e.kind)).toEqual(['created']);
  });

  it("keeps organisation B out of A's tickets, messages, attachments, ledger, audit log and email replies", async () => {
    const secret = Buffer.from('acme secret indicator file');
    const t = await open(memberA(), {
      subject: 'ACME-ONLY subject',
      body: 'ACME-ONLY body',
      attachments: [file('a.txt', secret)],
    });
    const ticket = (await json(call('GET', `/api/v1/tickets/${t.id}`, memberA()))).ticket;
    const hash = ticket.messages[0].attachments[0].sha256;
    const own = await open(memberB(), { attachments: [file('b.txt', Buffer.from('beta file'))] });
    for (const token of [memberB(), b.apiTokens['org-admin']]) {
      for (const path of [
        `/api/v1/tickets/${t.id}`,
        `/api/v1/tickets/${t.id}/audit`,
        `/api/v1/tickets/${t.id}/attachments/${hash}`,
        `/api/v1/tickets/${own.id}/attachments/${hash}`,
      ])
        expect({ path, status: (await call('GET', path, token)).status }).toEqual({ path, status: 404 });
      expect((await call('POST', `/api/v1/tickets/${t.id}/messages`, token, { body: 'hi' })).status).toBe(
        404,
      );
      expect((await call('POST', `/api/v1/tickets/${t.id}/state`, token, { to: 'closed' })).status).toBe(404);
      expect((await call('PATCH', `/api/v1/tickets/${t.id}`, token, { priority: 'urgent' })).status).toBe(
        403,
      );
      for (const path of [
        `/api/v1/tickets?org=${a.orgId}`,
        '/api/v1/tickets',
        `/api/v1/incidents/3cx-2023/quota?org=${a.orgId}`,
      ]) {
        const text = await (await call('GET', path, token)).text();
        expect({
          path,
          leak: text.includes(a.orgId) || text.includes(t.id) || text.includes('ACME-ONLY'),
        }).toEqual({ path, leak: false });
      }
      expect(
        (await call('POST', '/api/v1/tickets', token, { incident: '3cx-2023', subject: 's', org: a.orgId }))
          .status,
      ).toBe(201);
    }
    expect(
      (await json(call('GET', `/api/v1/incidents/3cx-2023/quota?org=${b.orgId}`, memberA()))).ledger.length,
    ).toBe(1);
    const fromB = await addEmailReply(store.db, {
      ticketId: t.id,
      senderEmail: b.emails['org-member'],
      body: 'B',
      receivedAt: clock,
      messageKey: 'from-b',
    });
    expect(fromB.accepted).toBe(false);
    const unknown = await addEmailReply(store.db, {
      ticketId: t.id,
      senderEmail: 'nobody@evil.test',
      body: 'x',
      receivedAt: clock,
      messageKey: 'unknown',
    });
    expect(unknown).toEqual(fromB);
    const fromA = await addEmailReply(
      store.db,
      {
        ticketId: t.id,
        senderEmail: ` ${a.emails['org-admin'].toUpperCase()} `,
        body: 'by mail',
        receivedAt: clock,
        messageKey: 'from-a',
      },
      async (_tx, event) => {
        events.push(event);
      },
    );
    expect(fromA.accepted).toBe(true);
    const messages = (await json(call('GET', `/api/v1/tickets/${t.id}`, memberA()))).ticket
      .messages as Json[];
    expect(messages.map((m) => [m.body, m.via])).toEqual([
      ['ACME-ONLY body', 'api'],
      ['by mail', 'email'],
    ]);
    expect(events.at(-1)).toMatchObject({ kind: 'message', body: 'by mail', ticketId: t.id, orgId: a.orgId });
    const download = await call('GET', `/api/v1/tickets/${t.id}/attachments/${hash}`, memberA());
    expect(Buffer.from(await download.arrayBuffer())).toEqual(secret);
  });

  it('serves attachments as downloads, deduplicated per organisation, with safe names and limits', async () => {
    const bytes = Buffer.from('<html><script>alert(1)</script></html>');
    const t = await open(memberA(), { attachments: [file('../../etc/"pass\u202ewd<b>.html', bytes)] });
    await call('POST', `/api/v1/tickets/${t.id}/messages`, memberA(), {
      body: 'again',
      attachments: [file('rapport é.html', bytes)],
    });
    const blobs = await store.db.all('SELECT org_id FROM ticket_blobs');
    expect(blobs).toHaveLength(1);
    const ticket = (await json(call('GET', `/api/v1/tickets/${t.id}`, memberA()))).ticket;
    const [first] = ticket.messages[0].attachments;
    expect(first.name).toBe('"passwd<b>.html');
    const res = await call('GET', `/api/v1/tickets/${t.id}/attachments/${first.sha256}`, memberA());
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="_passwd_b_.html"; filename*=UTF-8''%22passwd%3Cb%3E.html`,
    );
    expect(
      (await call('GET', `/api/v1/tickets/${t.id}/attachments/${'0'.repeat(64)}`, memberA())).status,
    ).toBe(404);
    expect((await call('GET', `/api/v1/tickets/${t.id}/attachments/..%2F..%2Fx`, memberA())).status).toBe(
      404,
    );
    const big = await call('POST', `/api/v1/tickets/${t.id}/messages`, memberA(), {
      body: 'big',
      attachments: [file('big.bin', Buffer.alloc(10 * 1024 * 1024 + 1))],
    });
    expect(big.status).toBe(413);
    expect((await json(big)).error.field).toBe('attachments[0].contentBase64');
  });

  it.each([
    [{ subject: 'x' }, 'incident'],
    [{ incident: 'nope', subject: 'x' }, 'incident'],
    [{ incident: '3cx-2023' }, 'subject'],
    [{ incident: '3cx-2023', subject: 'a\u0000b' }, 'subject'],
    [{ incident: '3cx-2023', subject: 'x', priority: 'critical' }, 'priority'],
    [{ incident: '3cx-2023', subject: 'x', body: '' }, 'body'],
    [
      { incident: '3cx-2023', subject: 'x', attachments: [{ name: 'a', contentBase64: 'not base64!' }] },
      'attachments[0].contentBase64',
    ],
    [{ incident: '3cx-2023', subject: 'x', attachments: {} }, 'attachments'],
  ])('refuses bad input naming the field (%#)', async (body, field) => {
    const res = await call('POST', '/api/v1/tickets', memberA(), body);
    expect(res.status).toBe(400);
    expect((await json(res)).error.field).toBe(field);
  });

  it('refuses bad messages, states, assignments and counting naming the field', async () => {
    const t = await open(memberA());
    const cases: [string, string, string, Json, string][] = [
      ['POST', 'messages', memberA(), { body: 7 }, 'body'],
      ['POST', 'messages', staff(), { body: 'x', internal: 'yes' }, 'internal'],
      ['POST', 'state', memberA(), { to: 'reopened' }, 'to'],
      ['PATCH', '', staff(), { assignee: a.orgId }, 'assignee'],
      ['PATCH', '', staff(), { priority: 'p0' }, 'priority'],
      ['POST', 'counting', staff(), { counts: 'no', reason: 'x' }, 'counts'],
      ['POST', 'counting', staff(), { counts: false }, 'reason'],
    ];
    for (const [method, tail, token, body, field] of cases) {
      const res = await call(method, `/api/v1/tickets/${t.id}${tail ? `/${tail}` : ''}`, token, body);
      expect({ tail, field, status: res.status, got: (await json(res)).error?.field }).toEqual({
        tail,
        field,
        status: 400,
        got: field,
      });
    }
    expect((await call('GET', '/api/v1/tickets?state=lost', memberA())).status).toBe(400);
  });

  it('pages the list newest first with cursors bound to the caller and the filters', async () => {
    const made: string[] = [];
    for (let i = 0; i < 7; i += 1) {
      clock = new Date(clock.getTime() + (i % 3 === 0 ? 0 : 1000));
      made.push((await open(memberA())).id);
    }
    const page = async (token: string, q: string) => json(call('GET', `/api/v1/tickets?${q}`, token));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const got: Json = await page(memberA(), `limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...(got.tickets as Json[]).map((t) => t.id));
      cursor = got.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(seen)).toEqual(new Set(made));
    expect(seen).toHaveLength(7);
    const first: Json = await page(memberA(), 'limit=3');
    for (const [token, q] of [
      [memberB(), `limit=3&cursor=${first.nextCursor}`],
      [memberA(), `limit=3&state=new&cursor=${first.nextCursor}`],
      [memberA(), `limit=3&cursor=${first.nextCursor}x`],
    ] as const) {
      const res = await call('GET', `/api/v1/tickets?${q}`, token);
      expect(res.status).toBe(400);
      expect((await json(res)).error).toMatchObject({ code: 'INVALID_CURSOR', field: 'cursor' });
    }
    expect((await call('GET', '/api/v1/tickets?limit=0', memberA())).status).toBe(400);
  });

  it('refuses text that would show other than it is, bytes that are not UTF-8, and fields it would ignore', async () => {
    const refusals: [Json, string][] = [
      [{ subject: 'RLO \u202eexe.txt' }, 'subject'],
      [{ subject: 'lone \ud800 surrogate' }, 'subject'],
      [{ subject: '   ' }, 'subject'],
      [{ body: 'bell \u0007 and \u001b[31m ansi' }, 'body'],
      [{ body: 'lone \udc00' }, 'body'],
      [{ paid: false }, 'paid'],
      [{ counts: false }, 'counts'],
    ];
    for (const [extra, field] of refusals) {
      const res = await call('POST', '/api/v1/tickets', memberA(), {
        incident: '3cx-2023',
        subject: 'ok',
        ...extra,
      });
      expect({ extra, status: res.status, field: (await json(res)).error?.field }).toEqual({
        extra,
        status: 400,
        field,
      });
    }
    const t = await open(memberA());
    const note = await call('POST', `/api/v1/tickets/${t.id}/messages`, memberA(), {
      body: 'x',
      visibility: 'all',
    });
    expect((await json(note)).error).toMatchObject({ field: 'visibility' });
    const badBytes = await hub.app.request(`/api/v1/tickets/${t.id}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${memberA()}`, 'content-type': 'application/json' },
      body: Buffer.concat([Buffer.from('{"body":"bad '), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    });
    expect(badBytes.status).toBe(400);
    expect((await json(badBytes)).error.code).toBe('BAD_JSON');
  });

  it('assigns to vendor staff only and filters the list', async () => {
    const t = await open(memberA(), { priority: 'low' });
    await open(memberA(), { priority: 'high' });
    const staffUser = await store.db.get<{ id: string }>(
      "SELECT id FROM users WHERE email = 'vendor-staff@vendor.test'",
    );
    const customerUser = await store.db.get<{ id: string }>(
      "SELECT id FROM users WHERE email = 'org-member@acme.test'",
    );
    expect(
      (await call('PATCH', `/api/v1/tickets/${t.id}`, staff(), { assignee: customerUser?.id })).status,
    ).toBe(400);
    const patched = await json(
      call('PATCH', `/api/v1/tickets/${t.id}`, staff(), { assignee: staffUser?.id, priority: 'urgent' }),
    );
    expect(patched.ticket).toMatchObject({ assigneeId: staffUser?.id, priority: 'urgent' });
    const list = async (q: string) =>
      ((await json(call('GET', `/api/v1/tickets?${q}`, memberA()))).tickets as Json[]).map((x) => x.id);
    expect(await list(`assignee=${staffUser?.id}`)).toEqual([t.id]);
    expect(await list('priority=urgent')).toEqual([t.id]);
    expect(await list('priority=high')).toHaveLength(1);
    expect(await list('state=open')).toEqual([]);
    const audit = (await json(call('GET', `/api/v1/tickets/${t.id}/audit`, memberA()))).audit as Json[];
    expect(audit.map((e) => e.kind)).toEqual(['created', 'assignment', 'priority']);
    expect(audit[2]).toMatchObject({ before: 'low', after: 'urgent' });
  });

  it('keeps the XSS corpus inert in subjects, messages and attachment names', async () => {
    await call('PATCH', '/api/v1/incidents/3cx-2023', staff(), { freeTickets: 100 });
    for (const payload of XSS_PAYLOADS) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: a subject is one line
      const subject = payload.replace(/[\u0000-\u001f]/g, '');
      const t = await open(memberA(), {
        subject,
        body: subject,
        attachments: [file(payload, Buffer.from(payload))],
      });
      const ticket = (await json(call('GET', `/api/v1/tickets/${t.id}`, memberA()))).ticket;
      expect({
        payload,
        active: activeMarkupIn(ticket.subjectHtml) ?? activeMarkupIn(ticket.messages[0].html),
      }).toEqual({ payload, active: undefined });
      expect(ticket.messages[0].body).toBe(subject);
      const [attachment] = ticket.messages[0].attachments;
      // biome-ignore lint/suspicious/noControlCharactersInRegex: a NUL in a stored name is what is checked
      expect(attachment.name).not.toMatch(/[\u0000/\\]/);
      const res = await call('GET', attachment.url, memberA());
      expect(res.headers.get('content-disposition')).toMatch(
        /^attachment; filename="[A-Za-z0-9._ -]*"; filename\*=UTF-8''[A-Za-z0-9%._~!-]*$/,
      );
    }
  });
});
