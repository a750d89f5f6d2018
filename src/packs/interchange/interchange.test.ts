import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Indicator } from '../../core/indicator.js';
import { FilenameMatcher } from '../../matchers/filename-matcher.js';
import { parseIocList } from '../ioc-list.js';
import { IndicatorFileSchema } from '../pack-content.js';
import { exportMispEvent, importMispEvent, importMispFeed } from './misp.js';
import { exportStix, importStix, parsePattern } from './stix.js';
import { exportCsv, exportLoki, exportRpz, importCsv } from './text-formats.js';

const pack3cx = IndicatorFileSchema.parse(
  JSON.parse(readFileSync(new URL('../../../packs/3cx-2023/indicators.json', import.meta.url), 'utf8')),
);
const indicators = pack3cx.indicators as Indicator[];
const key = (i: Indicator) => `${i.kind} ${i.value} ${i.syntax ?? 'glob'}`;
const data = {
  id: '3cx-2023',
  title: '3CX',
  indicators,
  rules: new Map([['r.yar', 'rule r { condition: false }']]),
};

describe('round trips keep every indicator', () => {
  it('pack -> STIX 2.1 -> pack', () => {
    const back = importStix(JSON.parse(JSON.stringify(exportStix(data))), 'rt');
    expect(back.rejected).toEqual([]);
    expect(back.indicators.map(key).sort()).toEqual(indicators.map(key).sort());
    expect(back.indicators.map((i) => i.severity).sort()).toEqual(indicators.map((i) => i.severity).sort());
    expect([...back.rules.values()]).toEqual(['rule r { condition: false }']);
  });

  it('pack -> MISP event -> pack', () => {
    const back = importMispEvent(JSON.parse(JSON.stringify(exportMispEvent(data))), 'rt');
    expect(back.rejected).toEqual([]);
    expect(back.indicators.map(key).sort()).toEqual(indicators.map(key).sort());
    expect(back.indicators.find((i) => i.value === 'akamaicontainer.com')?.severity).toBe('critical');
  });

  it('pack -> CSV -> pack', () => {
    const back = importCsv(exportCsv(indicators), 'x.csv', 'rt');
    expect(back.rejected).toEqual([]);
    expect(back.indicators.map((i) => `${i.kind} ${i.value}`).sort()).toEqual(
      indicators.map((i) => `${i.kind} ${i.value}`).sort(),
    );
  });

  it('pack -> Loki lists: file-name globs become regexes that match the same paths, on either slash', () => {
    const lists = exportLoki(indicators);
    const regexes = parseIocList(lists['filename-iocs.txt'] ?? '', 'filename-iocs.txt', 'filename');
    expect(regexes.diagnostics).toEqual([]);
    const matcher = new FilenameMatcher(regexes.indicators.map((i) => ({ ...i, packId: 'loki' })));
    expect(
      matcher.match('/mnt/mac/Users/al/Library/Application Support/3CX Desktop App/UpdateAgent'),
    ).toHaveLength(1);
    expect(matcher.match('/mnt/win/Users/al/Downloads/3cxdesktopapp-18.12.416.MSI')).toHaveLength(1);
    expect(matcher.match('/mnt/win/Users/al/Downloads/3CXDesktopApp-18.12.422.msi')).toHaveLength(0);
    expect(parseIocList(lists['hash-iocs.txt'] ?? '', 'hash-iocs.txt', 'hash').indicators).toHaveLength(122);
    expect(parseIocList(lists['c2-iocs.txt'] ?? '', 'c2-iocs.txt', 'c2').indicators).toHaveLength(28);
    expect(exportRpz(indicators, 'x')).toContain('*.akamaicontainer.com CNAME .');
  });
});

describe('importers on real-shaped input', () => {
  it('STIX: OR-joined comparisons in and across brackets, escapes, and unsupported patterns reported', () => {
    const bundle = {
      type: 'bundle',
      id: 'bundle--1',
      objects: [
        { type: 'identity', id: 'identity--1', name: 'Vendor' },
        {
          type: 'indicator',
          id: 'indicator--a',
          name: 'C2',
          pattern_type: 'stix',
          confidence: 90,
          pattern:
            "[domain-name:value = 'akamaicontainer.com' OR domain-name:value = 'msstorageazure.com'] OR [url:value = 'https://sbmsa.wiki/blog/_insert']",
        },
        {
          type: 'indicator',
          id: 'indicator--b',
          name: 'Loader',
          pattern_type: 'stix',
          pattern:
            "[file:hashes.'SHA-256' = '7986BBAEE8940DA11CE089383521AB420C443AB7B15ED42AED91FD31CE833896']",
          external_references: [{ source_name: 'volexity', url: 'https://www.volexity.com/' }],
        },
        {
          type: 'indicator',
          id: 'indicator--c',
          name: 'Name',
          pattern_type: 'stix',
          pattern: "[file:name = 'it\\'s.exe']",
        },
        {
          type: 'indicator',
          id: 'indicator--d',
          name: 'Process',
          pattern_type: 'stix',
          pattern: "[process:name = 'evil.exe']",
        },
        {
          type: 'indicator',
          id: 'indicator--e',
          name: 'Big',
          pattern_type: 'stix',
          pattern: "[file:size > 1000000 AND file:name = 'x.bin']",
        },
        { type: 'indicator', id: 'indicator--f', name: 'Sigma', pattern_type: 'sigma', pattern: 'title: x' },
        {
          type: 'indicator',
          id: 'indicator--g',
          name: 'IPs',
          pattern_type: 'stix',
          pattern: "[ipv4-addr:value = '185.38.151.11'] OR [ipv6-addr:value = '2001:db8::/32']",
        },
      ],
    };
    const result = importStix(bundle, 'v');
    expect(result.indicators.map((i) => `${i.kind} ${i.value} ${i.confidence}`)).toEqual([
      'domain akamaicontainer.com high',
      'domain msstorageazure.com high',
      'url https://sbmsa.wiki/blog/_insert high',
      'sha256 7986bbaee8940da11ce089383521ab420c443ab7b15ed42aed91fd31ce833896 medium',
      "filename it's.exe medium",
      'ip 185.38.151.11 medium',
      'ip 2001:db8::/32 medium',
    ]);
    expect(result.indicators[3]?.references).toEqual(['https://www.volexity.com/']);
    expect(result.rejected.map((r) => r.where)).toEqual(['indicator--d', 'indicator--e', 'indicator--f']);
    expect(parsePattern("[a:b = 'x'] AND [c:d = 'y']")).toBeUndefined();
    expect(importStix({ type: 'not-a-bundle' }, 'x').rejected).toHaveLength(1);
    const deep = JSON.parse(
      `{"type":"bundle","id":"bundle--1","objects":[${'['.repeat(10_000)}${']'.repeat(10_000)}]}`,
    );
    expect(importStix(deep, 'x').rejected).toEqual([
      { where: 'objects[0]', reason: 'not a STIX object (an array of 1)' },
    ]);
  });

  it('MISP: attributes, object attributes, composite types, unsupported types reported; feed folders', () => {
    const event = {
      Event: {
        info: '3CX supply chain',
        threat_level_id: '1',
        Attribute: [
          { type: 'domain', value: 'akamaicontainer.com', comment: 'C2' },
          { type: 'ip-dst|port', value: '185.38.151.11|443' },
          {
            type: 'filename|sha256',
            value: 'ffmpeg.dll|7986bbaee8940da11ce089383521ab420c443ab7b15ed42aed91fd31ce833896',
          },
          { type: 'email-src', value: 'philip.je@proton.me' },
          { type: 'md5', value: 'not-a-hash' },
        ],
        Object: [
          { name: 'file', Attribute: [{ type: 'sha1', value: 'BF939C9C261D27EE7BB92325CC588624FCA75429' }] },
        ],
      },
    };
    const result = importMispEvent(event, 'm');
    expect(result.indicators.map((i) => `${i.kind} ${i.value} ${i.severity}`)).toEqual([
      'domain akamaicontainer.com high',
      'ip 185.38.151.11 high',
      'filename ffmpeg.dll high',
      'sha256 7986bbaee8940da11ce089383521ab420c443ab7b15ed42aed91fd31ce833896 high',
      'sha1 bf939c9c261d27ee7bb92325cc588624fca75429 high',
    ]);
    expect(result.rejected.map((r) => r.reason)).toEqual([
      'unsupported MISP attribute type "email-src"',
      'md5 value is not valid',
    ]);
    const feed = importMispFeed(
      {
        manifest: { 'uuid-1': { info: 'x' }, 'uuid-2': { info: 'y' } },
        event: (u) => (u === 'uuid-1' ? event : undefined),
      },
      'f',
    );
    expect(feed.indicators).toHaveLength(5);
    expect(feed.rejected.at(-1)).toEqual({
      where: 'uuid-2.json',
      reason: 'listed in manifest.json but missing or unreadable',
    });
  });

  it('CSV: header names found or mapped, quoted fields, bad rows rejected with their line', () => {
    const csv =
      'Indicator,Type,Notes,Severity\r\n"akamaicontainer.com",domain,"C2, per ""Volexity""",critical\r\n7986bbaee8940da11ce089383521ab420c443ab7b15ed42aed91fd31ce833896,sha256,loader,\r\nnot an ioc!,domain,x,high\r\n';
    const plain = importCsv(csv, 'iocs.csv', 'c', { title: 'notes' });
    expect(plain.indicators.map((i) => `${i.kind} ${i.value} ${i.title} ${i.severity}`)).toEqual([
      'domain akamaicontainer.com C2, per "Volexity" critical',
      'sha256 7986bbaee8940da11ce089383521ab420c443ab7b15ed42aed91fd31ce833896 loader high',
    ]);
    expect(plain.rejected.map((r) => r.where)).toEqual(['iocs.csv:4']);
    expect(importCsv('a,b\n1,2\n', 'x.csv', 'c').rejected[0]?.reason).toMatch(/no value column/);
    expect(
      importCsv('ip address\n10.0.0.1\n', 'x.csv', 'c', { value: 'ip address' }).indicators[0]?.kind,
    ).toBe('ip');
  });
});

describe('hostile and colliding interchange input', () => {
  it('reports STIX objects that are not objects, and keeps same-named YARA indicators apart', () => {
    const yara = (id: string, text: string) => ({
      type: 'indicator',
      id,
      pattern_type: 'yara',
      pattern: text,
    });
    const result = importStix(
      {
        type: 'bundle',
        objects: [
          null,
          'x',
          yara('indicator--1', 'rule A { condition: false }'),
          yara('indicator--1', 'rule B { condition: false }'),
        ],
      },
      's',
    );
    expect(result.rejected.map((r) => r.where)).toEqual(['objects[0]', 'objects[1]']);
    expect([...result.rules.keys()]).toEqual(['indicator--1.yar', 'indicator--1-2.yar']);
  });

  it('reports MISP attributes of the wrong shape and keeps YARA attributes without comments apart', () => {
    const result = importMispEvent(
      {
        Event: {
          info: 'e',
          Attribute: [
            null,
            { type: 'domain', value: 7 },
            { type: 'yara', value: 'rule A {}' },
            { type: 'yara', value: 'rule B {}' },
          ],
          Object: [null, { Attribute: [{ type: 'domain', value: 'ok.example' }] }],
        },
      },
      'm',
    );
    expect(result.rejected.map((r) => r.where)).toEqual([
      'e: Object[0]',
      'e: Attribute[0]',
      'e: Attribute[1]',
    ]);
    expect([...result.rules.keys()]).toEqual(['misp-rule.yar', 'misp-rule-2.yar']);
    expect(result.indicators.map((i) => i.value)).toEqual(['ok.example']);
  });
});
