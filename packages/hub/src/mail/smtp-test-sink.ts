import type { AddressInfo } from 'node:net';
import PostalMime, { type Email } from 'postal-mime';
import { SMTPServer } from 'smtp-server';

/** One message the sink accepted: the envelope, the raw bytes and the parsed message. */
export interface SunkMail {
  envelopeTo: string[];
  raw: Buffer;
  email: Email;
}

/** A local SMTP server on 127.0.0.1 for tests: `answer` decides each recipient (250 accepts; 4xx, 5xx refuse). */
export interface SmtpSink {
  url: string;
  received: SunkMail[];
  answer: (recipient: string) => number;
  /** Resolves once `count` messages have arrived (or rejects after `ms`). */
  waitFor(count: number, ms?: number): Promise<SunkMail[]>;
  close(): Promise<void>;
}

/** Starts a sink on a free loopback port, with no TLS and no authentication. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const sink = { received: [] as SunkMail[], answer: (_: string) => 250 } as SmtpSink;
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onRcptTo(address, _session, callback) {
      const code = sink.answer(address.address);
      if (code < 400) return callback();
      callback(Object.assign(new Error(`refused with ${code}`), { responseCode: code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        PostalMime.parse(raw).then((email) => {
          sink.received.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), raw, email });
          callback();
        }, callback);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  sink.waitFor = async (count, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (sink.received.length < count) {
      if (Date.now() > deadline) throw new Error(`the sink has ${sink.received.length} of ${count} messages`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return sink.received;
  };
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}
