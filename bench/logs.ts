import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Random } from './random.js';

/** The log corpus and what every tool should find in it. */
export interface LogCorpus {
  dir: string;
  files: string[];
  bytes: number;
  domainsFile: string;
  /** Per file: line numbers (1-based) that truly touch an indicator, and look-alike decoys that do not. */
  truth: Record<string, { hits: number[]; decoys: number[] }>;
}

const TLDS = ['com', 'net', 'org', 'io', 'info', 'biz', 'co', 'us', 'de', 'app'];

/**
 * A deterministic ~1 GB corpus: Zeek dns.log (TSV), Squid access.log and JSON-lines DNS logs, with 10,000
 * indicator domains. About one line in 5,000 touches an indicator (as a subdomain, in mixed case, or in
 * Windows-DNS label form inside the JSON), and as many are look-alikes that only contain an indicator as a
 * substring (notakamaicontainer.com), which substring tools report falsely.
 */
export async function buildLogCorpus(dir: string, extraIndicators: string[]): Promise<LogCorpus> {
  mkdirSync(dir, { recursive: true });
  const random = new Random(3094);
  const indicators = Array.from(
    { length: 10_000 },
    () =>
      `${random.word(random.int(6, 12))}${random.pick(['-cdn', '-api', '', 'cloud', 'store'])}.${random.pick(TLDS)}`,
  );
  const domainsFile = join(dir, 'domains.txt');
  writeFileSync(domainsFile, `${[...indicators, ...extraIndicators].join('\n')}\n`);
  const benign = Array.from(
    { length: 50_000 },
    () =>
      `${random.pick(['www', 'api', 'cdn', 'mail', 'static', 'img'])}.${random.word(random.int(5, 10))}.${random.pick(TLDS)}`,
  );
  const truthFile = join(dir, 'truth.json');
  const specs = [
    ...Array.from({ length: 4 }, (_, i) => ({
      name: `zeek/dns.${i}.log`,
      kind: 'zeek' as const,
      lines: 1_000_000,
    })),
    ...Array.from({ length: 2 }, (_, i) => ({
      name: `squid/access.${i}.log`,
      kind: 'squid' as const,
      lines: 1_000_000,
    })),
    ...Array.from({ length: 2 }, (_, i) => ({
      name: `json/dns.${i}.jsonl`,
      kind: 'json' as const,
      lines: 1_000_000,
    })),
  ];
  const files = specs.map((s) => join(dir, s.name));
  if (existsSync(truthFile)) {
    return {
      dir,
      files,
      bytes: files.reduce((n, f) => n + readFileSync(f).length, 0),
      domainsFile,
      truth: JSON.parse(readFileSync(truthFile, 'utf8')),
    };
  }
  const truth: LogCorpus['truth'] = {};
  let bytes = 0;
  for (const spec of specs) {
    const file = join(dir, spec.name);
    mkdirSync(join(file, '..'), { recursive: true });
    const out = createWriteStream(file);
    const hits: number[] = [];
    const decoys: number[] = [];
    let lineNo = 0;
    const lines: string[] = [];
    const flush = async () => {
      const text = `${lines.join('\n')}\n`;
      bytes += Buffer.byteLength(text);
      lines.length = 0;
      if (!out.write(text)) await new Promise<void>((r) => out.once('drain', () => r()));
    };
    if (spec.kind === 'zeek') {
      lines.push(
        '#separator \\x09',
        '#path\tdns',
        '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\trcode_name\tanswers',
      );
      lineNo = 3;
    }
    for (let i = 0; i < spec.lines; i++) {
      lineNo++;
      const roll = random.next();
      let host = random.pick(benign);
      if (roll < 0.0002) {
        const ioc = random.pick(indicators);
        host = random.next() < 0.5 ? `${random.word(3)}.${ioc}` : ioc.toUpperCase();
        hits.push(lineNo);
      } else if (roll < 0.0004) {
        host = `not${random.pick(indicators)}`;
        decoys.push(lineNo);
      }
      const ts = 1679500000 + i * 0.05;
      const client = `10.${random.int(0, 3)}.${random.int(0, 255)}.${random.int(1, 254)}`;
      if (spec.kind === 'zeek') {
        lines.push(
          `${ts.toFixed(6)}\tC${i.toString(36)}\t${client}\t${random.int(1024, 65535)}\t10.0.0.1\t53\tudp\t${host}\tA\tNOERROR\t93.184.216.${random.int(1, 254)}`,
        );
      } else if (spec.kind === 'squid') {
        lines.push(
          `${ts.toFixed(3)} ${String(random.int(1, 900)).padStart(6)} ${client} TCP_MISS/200 ${random.int(200, 90000)} GET http://${host}/${random.word(8)}/${random.word(5)}.js - HIER_DIRECT/93.184.216.34 application/javascript`,
        );
      } else {
        lines.push(
          JSON.stringify({
            '@timestamp': new Date(ts * 1000).toISOString(),
            client_ip: client,
            query: host,
            type: 'A',
            status: 'NOERROR',
          }),
        );
      }
      if (lines.length >= 10_000) await flush();
    }
    await flush();
    await new Promise<void>((r) => out.end(() => r()));
    truth[file] = { hits, decoys };
  }
  writeFileSync(truthFile, JSON.stringify(truth));
  return { dir, files, bytes, domainsFile, truth };
}
