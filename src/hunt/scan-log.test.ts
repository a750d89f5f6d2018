import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Indicator } from '../core/indicator.js';
import { NetworkMatcher } from '../matchers/network-matcher.js';
import { parseIocList } from '../packs/ioc-list.js';
import { tempTree } from '../testing/temp-tree.js';
import { huntLog, type LogHit } from './scan-log.js';

// Indicators as a responder would paste them: defanged, mixed case, a URL with a path, an address and a range.
const IOCS = [
  'akamaicontainer[.]com',
  'MSStorageAzure.com.',
  'hxxps://raw.githubusercontent[.]com/IconStorages/images/main/',
  '185.38.151.11',
  '2001:db8:bad::/48',
  'bücher-c2.example',
].join('\n');
const indicators = parseIocList(IOCS, 'c2-iocs.txt', 'c2').indicators.map((i: Indicator) => ({
  ...i,
  packId: 'local',
}));
const matcher = new NetworkMatcher(indicators);

async function huntText(name: string, content: string | Buffer, options = {}, modified?: Date) {
  const dir = tempTree({ [name]: content });
  if (modified) utimesSync(join(dir, name), modified, modified);
  const hits: LogHit[] = [];
  const result = await huntLog(join(dir, name), matcher, options, (batch) => {
    hits.push(...batch);
  });
  return {
    ...result,
    found: hits.map(
      (h) =>
        `${h.line} ${h.timestamp ?? '-'} ${h.client ?? '-'} ${h.field ?? '-'} ${h.seen} ${h.indicator.value}`,
    ),
  };
}

const ZEEK_HEAD = (path: string, fields: string) =>
  `#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t${path}\n#fields\t${fields}\n#types\t-\n`;

describe('huntLog formats', () => {
  it('zeek dns.log (TSV): subdomains match, look-alikes do not, and a changed #fields header is followed', async () => {
    const log = [
      ZEEK_HEAD('dns', 'ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers'),
      '1679572800.100000\tC1\t10.0.0.5\t5353\t10.0.0.1\t53\tudp\twww.google.com\t142.250.74.36',
      '1679572801.500000\tC2\t10.0.0.7\t5353\t10.0.0.1\t53\tudp\tupdate.AKAMAICONTAINER.com\t1.2.3.4',
      '1679572802.000000\tC3\t10.0.0.8\t5353\t10.0.0.1\t53\tudp\tnotakamaicontainer.com\t1.2.3.4',
      '#fields\tts\tid.orig_h\tquery\tuid',
      '1679572900.000000\t10.0.0.9\tmsstorageazure.com.\tC4',
      '',
    ].join('\n');
    const r = await huntText('dns.log', log);
    expect(r.format).toBe('zeek-tsv');
    expect(r.found).toEqual([
      '10 2023-03-23T12:00:01.500Z 10.0.0.7 query update.akamaicontainer.com akamaicontainer.com',
      '13 2023-03-23T12:01:40.000Z 10.0.0.9 query msstorageazure.com msstorageazure.com',
    ]);
    expect(r.counts['header-changes']).toBe(1);
    expect(r.lines).toBe(13);
  });

  it('zeek http.log and ssl.log: URLs by host and path prefix, SNI as domain', async () => {
    const http = [
      ZEEK_HEAD('http', 'ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmethod\thost\turi\tuser_agent'),
      '1680048000.0\tH1\t10.1.1.1\t50000\t185.199.108.133\t443\tGET\traw.githubusercontent.com\t/IconStorages/images/main/icon13.ico\tMozilla/5.0',
      '1680048001.0\tH2\t10.1.1.2\t50001\t185.199.108.133\t443\tGET\traw.githubusercontent.com\t/nodejs/node/main/README.md\tcurl/8',
      '',
    ].join('\n');
    const r = await huntText('http.log', http);
    expect(r.found).toEqual([
      '9 2023-03-29T00:00:00.000Z 10.1.1.1 host+uri http://raw.githubusercontent.com/IconStorages/images/main/icon13.ico https://raw.githubusercontent.com/IconStorages/images/main/',
    ]);
    const ssl = [
      ZEEK_HEAD('ssl', 'ts\tuid\tid.orig_h\tid.resp_h\tserver_name'),
      '1680048002.0\tS1\t10.1.1.3\t23.1.2.3\tMsStorageAzure.com',
      '',
    ].join('\n');
    expect((await huntText('ssl.log', ssl)).found).toEqual([
      '9 2023-03-29T00:00:02.000Z 10.1.1.3 server_name msstorageazure.com msstorageazure.com',
    ]);
  });

  it('zeek conn.log and JSON logs: IP addresses and CIDR ranges', async () => {
    const conn = [
      ZEEK_HEAD('conn', 'ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto'),
      '1680048003.0\tK1\t10.2.2.2\t40000\t185.38.151.11\t443\ttcp',
      '1680048004.0\tK2\t10.2.2.3\t40001\t185.38.151.12\t443\ttcp',
      '',
    ].join('\n');
    expect((await huntText('conn.log', conn)).found).toEqual([
      '9 2023-03-29T00:00:03.000Z 10.2.2.2 id.resp_h 185.38.151.11 185.38.151.11',
    ]);
    const json =
      '{"ts":1680048005.0,"uid":"J1","id.orig_h":"10.2.2.4","id.resp_h":"2001:db8:bad:1::7","proto":"tcp"}\n{"ts":1680048006.0,"uid":"J2","id.orig_h":"10.2.2.5","id.resp_h":"2001:db8:bae::1","proto":"tcp"}\n';
    const r = await huntText('conn.json', json);
    expect(r.format).toBe('zeek-json');
    expect(r.found).toEqual([
      '1 2023-03-29T00:00:05.000Z 10.2.2.4 id.resp_h 2001:db8:bad:1::7 2001:db8:bad::/48',
    ]);
  });

  it('Suricata EVE: dns, http, tls and alert records', async () => {
    const eve = [
      '{"timestamp":"2023-03-29T10:00:00.000000+0000","event_type":"dns","src_ip":"10.3.3.3","dest_ip":"10.0.0.1","dns":{"type":"query","id":1,"rrname":"akamaicontainer.com","rrtype":"A"}}',
      '{"timestamp":"2023-03-29T10:00:01.000000+0000","event_type":"http","src_ip":"10.3.3.4","dest_ip":"185.199.108.133","http":{"hostname":"raw.githubusercontent.com","url":"/IconStorages/images/main/icon1.ico","http_method":"GET"}}',
      '{"timestamp":"2023-03-29T10:00:02.000000+0000","event_type":"tls","src_ip":"10.3.3.5","dest_ip":"20.1.1.1","tls":{"sni":"www.msstorageazure.com","version":"TLS 1.2"}}',
      '{"timestamp":"2023-03-29T10:00:03.000000+0000","event_type":"alert","src_ip":"10.3.3.6","dest_ip":"185.38.151.11","alert":{"signature":"ET MALWARE 3CX beacon","severity":1}}',
      '{"timestamp":"2023-03-29T10:00:04.000000+0000","event_type":"dns","src_ip":"10.3.3.7","dns":{"type":"query","rrname":"example.org"}}',
    ].join('\n');
    const r = await huntText('eve.json', eve);
    expect(r.format).toBe('suricata-eve');
    expect(r.found).toEqual([
      '1 2023-03-29T10:00:00.000Z 10.3.3.3 dns.rrname akamaicontainer.com akamaicontainer.com',
      '2 2023-03-29T10:00:01.000Z 10.3.3.4 http.hostname+url http://raw.githubusercontent.com/IconStorages/images/main/icon1.ico https://raw.githubusercontent.com/IconStorages/images/main/',
      '3 2023-03-29T10:00:02.000Z 10.3.3.5 tls.sni www.msstorageazure.com msstorageazure.com',
      '4 2023-03-29T10:00:03.000Z 10.3.3.6 dest_ip 185.38.151.11 185.38.151.11',
    ]);
  });

  it('Squid access.log: URLs and CONNECT tunnels', async () => {
    const squid = [
      '1680084000.123    250 10.4.4.4 TCP_MISS/200 1520 GET http://akamaicontainer.com/api/v1 - HIER_DIRECT/203.0.113.9 text/html',
      '1680084001.456      5 10.4.4.5 TCP_TUNNEL/200 3900 CONNECT msstorageazure.com:443 - HIER_DIRECT/203.0.113.10 -',
      '1680084002.789     12 10.4.4.6 TCP_MISS/200 800 GET http://example.com/akamaicontainer.com.html - HIER_DIRECT/93.184.216.34 text/html',
    ].join('\n');
    const r = await huntText('access.log', squid);
    expect(r.format).toBe('squid');
    expect(r.found).toEqual([
      '1 2023-03-29T10:00:00.123Z 10.4.4.4 url akamaicontainer.com akamaicontainer.com',
      '2 2023-03-29T10:00:01.456Z 10.4.4.5 url msstorageazure.com msstorageazure.com',
    ]);
  });

  it('Windows DNS Server debug log: (n)label names', async () => {
    const dns = [
      'DNS Server log file creation at 3/29/2023 9:59:59 AM',
      '',
      '3/29/2023 10:00:05 AM 0E4C PACKET  000001D2C5A4B1E0 UDP Rcv 10.5.5.5        a1b2   Q [0001   D   NOERROR] A      (7)updates(15)akamaicontainer(3)com(0)',
      '3/29/2023 10:00:06 AM 0E4C PACKET  000001D2C5A4B1E0 UDP Rcv 10.5.5.6        a1b3   Q [0001   D   NOERROR] A      (3)www(9)microsoft(3)com(0)',
    ].join('\r\n');
    const r = await huntText('dns.txt', dns);
    expect(r.format).toBe('windows-dns');
    expect(r.found).toHaveLength(1);
    expect(r.found[0]).toMatch(
      /^3 \S+ 10\.5\.5\.5 question updates\.akamaicontainer\.com akamaicontainer\.com$/,
    );
  });

  it('Sysmon event 22 and 3, exported as JSON and as XML', async () => {
    const json = [
      '{"@timestamp":"2023-03-29T11:00:00.000Z","host":{"name":"WS-ALICE"},"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","provider_name":"Microsoft-Windows-Sysmon","event_id":22,"event_data":{"QueryName":"msstorageazure.com","QueryResults":"::ffff:20.1.1.1;","Image":"C:\\\\Users\\\\alice\\\\AppData\\\\Local\\\\Programs\\\\3CXDesktopApp\\\\3CXDesktopApp.exe","UtcTime":"2023-03-29 11:00:00.123"}}}',
      '{"@timestamp":"2023-03-29T11:00:01.000Z","host":{"name":"WS-BOB"},"winlog":{"provider_name":"Microsoft-Windows-Sysmon","event_id":3,"event_data":{"DestinationIp":"185.38.151.11","DestinationHostname":"-","UtcTime":"2023-03-29 11:00:01.000"}}}',
    ].join('\n');
    const r = await huntText('sysmon.json', json);
    expect(r.format).toBe('sysmon-json');
    expect(r.found).toEqual([
      '1 2023-03-29T11:00:00.123Z WS-ALICE QueryName msstorageazure.com msstorageazure.com',
      '2 2023-03-29T11:00:01.000Z WS-BOB DestinationIp 185.38.151.11 185.38.151.11',
    ]);
    const xml = [
      '<Events>',
      '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Sysmon" Guid="{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"/><EventID>22</EventID>',
      '<TimeCreated SystemTime="2023-03-29T12:00:00.5000000Z"/><Computer>WS-CAROL.corp.example</Computer></System>',
      '<EventData><Data Name="RuleName">-</Data><Data Name="UtcTime">2023-03-29 12:00:00.456</Data><Data Name="QueryName">akamaicontainer.com</Data>',
      '<Data Name="QueryStatus">0</Data><Data Name="Image">C:\\Program Files\\3CXDesktopApp\\3CXDesktopApp.exe</Data></EventData></Event>',
      '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><EventID>22</EventID><Computer>WS-DAVE</Computer></System><EventData><Data Name="QueryName">example.net</Data></EventData></Event>',
      '</Events>',
    ].join('\n');
    const rx = await huntText('sysmon.xml', xml);
    expect(rx.format).toBe('sysmon-xml');
    expect(rx.found).toEqual([
      '2 2023-03-29T12:00:00.456Z WS-CAROL.corp.example QueryName akamaicontainer.com akamaicontainer.com',
    ]);
  });

  it('BIND and dnsmasq query logs', async () => {
    const bind =
      '29-Mar-2023 13:00:00.123 queries: info: client @0x7f1c2c0010a0 10.6.6.6#53421 (c2.msstorageazure.com): query: c2.msstorageazure.com IN A +E(0)K (10.0.0.1)\n';
    expect((await huntText('query.log', bind)).found).toEqual([
      '1 2023-03-29T13:00:00.123Z 10.6.6.6 query c2.msstorageazure.com msstorageazure.com',
    ]);
    const dnsmasq =
      'Mar 29 13:00:01 gw dnsmasq[812]: query[A] akamaicontainer.com from 10.7.7.7\nMar 29 13:00:01 gw dnsmasq[812]: forwarded akamaicontainer.com to 1.1.1.1\n';
    const r = await huntText('dnsmasq.log', dnsmasq);
    expect(r.format).toBe('dnsmasq');
    expect(r.found.map((f) => f.split(' ').slice(2).join(' '))).toEqual([
      '10.7.7.7 query akamaicontainer.com akamaicontainer.com',
      '- forwarded akamaicontainer.com akamaicontainer.com',
    ]);
  });

  it('generic JSON lines, with --field for an unusual field, and the plain-text fallback', async () => {
    const json =
      '{"time":"2023-03-29T14:00:00Z","client_ip":"10.8.8.8","target":"beacon.akamaicontainer.com"}\n{"time":"2023-03-29T14:00:01Z","client_ip":"10.8.8.9","host":"msstorageazure.com"}\n';
    const plain = await huntText('app.jsonl', json);
    expect(plain.found).toEqual([
      '1 2023-03-29T14:00:00.000Z 10.8.8.8 text beacon.akamaicontainer.com akamaicontainer.com',
      '2 2023-03-29T14:00:01.000Z 10.8.8.9 host msstorageazure.com msstorageazure.com',
    ]);
    expect(plain.counts['unparsed-hits']).toBe(1);
    const withField = await huntText('app.jsonl', json, { fields: ['target'] });
    expect(withField.found[0]).toBe(
      '1 2023-03-29T14:00:00.000Z 10.8.8.8 target beacon.akamaicontainer.com akamaicontainer.com',
    );
    const text = await huntText(
      'notes.txt',
      'On 2023-03-30T08:00:00Z the firewall blocked hxxp://akamaicontainer.com and xn--bcher-c2-65a.example\n',
    );
    expect(text.found.map((f) => f.split(' ').slice(4).join(' '))).toEqual([
      'akamaicontainer.com akamaicontainer.com',
      'xn--bcher-c2-65a.example xn--bcher-c2-65a.example',
    ]);
  });
});

describe('huntLog on hostile input', () => {
  it('reads a 10 MB line, skips a 20 MB one (counted), and goes on after both', async () => {
    const ten = `{"junk":"${'a'.repeat(10 * 1024 * 1024)}","host":"akamaicontainer.com"}`;
    const twenty = `x ${'b'.repeat(20 * 1024 * 1024)} msstorageazure.com`;
    const r = await huntText('big.log', `${ten}\n${twenty}\nafter: msstorageazure.com\n`, { format: 'json' });
    expect(r.found.map((f) => f.split(' ')[0])).toEqual(['1', '3']);
    expect(r.counts['long-lines']).toBe(1);
    expect(r.lines).toBe(3);
  });

  it('survives binary garbage, CRLF and UTF-16, and counts what it saw', async () => {
    const garbage = Buffer.concat([
      Buffer.from([0, 1, 2, 255, 0, 10]),
      Buffer.from('ok akamaicontainer.com\r\n'),
      Buffer.alloc(1000, 0),
    ]);
    const r = await huntText('mixed.log', garbage);
    expect(r.found).toHaveLength(1);
    expect(r.counts['binary-lines']).toBe(2);
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(
        '{"QueryName":"msstorageazure.com","EventID":22,"SourceName":"Microsoft-Windows-Sysmon","Computer":"WS-E"}\r\n',
        'utf16le',
      ),
    ]);
    const u = await huntText('sysmon-utf16.json', utf16);
    expect(u.counts['utf16-files']).toBe(1);
    expect(u.found).toEqual(['1 - WS-E QueryName msstorageazure.com msstorageazure.com']);
  });

  it('reads .gz logs, and reports a truncated one after keeping what it could read', async () => {
    const lines = Array.from(
      { length: 50_000 },
      (_, i) =>
        `{"ts":${1680000000 + i},"query":"host${i}.example.com","id.orig_h":"10.9.9.9","uid":"U${i}"}`,
    );
    lines[100] = '{"ts":1680000100,"query":"akamaicontainer.com","id.orig_h":"10.9.9.1","uid":"X"}';
    lines[49_000] = '{"ts":1680049000,"query":"akamaicontainer.com","id.orig_h":"10.9.9.2","uid":"Y"}';
    const gz = gzipSync(`${lines.join('\n')}\n`);
    const whole = await huntText('dns.json.gz', gz);
    expect(whole.found.map((f) => f.split(' ')[0])).toEqual(['101', '49001']);
    const cut = await huntText('dns.json.gz', gz.subarray(0, Math.floor(gz.length * 0.6)));
    expect(cut.found.map((f) => f.split(' ')[0])).toEqual(['101']);
    expect(cut.problems.map((p) => p.code)).toEqual(['truncated-gzip']);
    expect(cut.lines).toBeGreaterThan(20_000);
  });

  it('keeps only records inside --since/--until', async () => {
    const log =
      '{"ts":1679572800,"query":"akamaicontainer.com","id.orig_h":"10.0.0.1","uid":"A"}\n{"ts":1680048000,"query":"akamaicontainer.com","id.orig_h":"10.0.0.2","uid":"B"}\n';
    const r = await huntText('w.json', log, {
      since: new Date('2023-03-25T00:00:00Z'),
      until: new Date('2023-04-01T00:00:00Z'),
    });
    expect(r.found.map((f) => f.split(' ')[2])).toEqual(['10.0.0.2']);
    expect(r.counts['outside-window']).toBe(1);
  });
});

describe('huntLog bounds and years', () => {
  it('stops inflating past --max-inflated-size, or past the ratio once a file passes 64 MiB', async () => {
    const log = `${'{"ts":1680000000,"query":"akamaicontainer.com","id.orig_h":"10.0.0.1","uid":"U"}\n'.repeat(10_000)}`;
    const sized = await huntText('a.json.gz', gzipSync(log), { inflate: { maxBytes: 8000, maxRatio: 100 } });
    expect(sized.problems.map((p) => p.code)).toEqual(['gzip-limit']);
    expect(sized.bytes).toBe(8000);
    // 8,000 bytes are 98.8 records of 81 bytes: 98 whole ones and the start of the next, its query included.
    expect(sized.found).toHaveLength(99);
    const bomb = gzipSync(Buffer.concat([Buffer.from(log), Buffer.alloc(80 << 20, 10)]));
    const ratio = await huntText('b.log.gz', bomb, { inflate: { maxBytes: 1 << 30, maxRatio: 100 } });
    expect(ratio.problems.map((p) => p.message)).toEqual([expect.stringMatching(/ratio over 100:1/)]);
    expect(ratio.found).toHaveLength(10_000);
    const small = await huntText('c.log.gz', gzipSync(Buffer.alloc(1 << 20, 10)));
    expect(small.problems).toEqual([]);
  });

  it('gives yearless times the year of the mtime, or the one before for later months; --year wins', async () => {
    const log =
      'Nov 30 12:00:00 gw dnsmasq[1]: query[A] akamaicontainer.com from 10.0.0.1\nFeb  1 12:00:00 gw dnsmasq[1]: query[A] akamaicontainer.com from 10.0.0.2\n';
    const dates = (r: { found: string[] }) => r.found.map((f) => f.split(' ')[1]?.slice(0, 10));
    expect(dates(await huntText('d.log', log, {}, new Date('2020-03-01T12:00:00Z')))).toEqual([
      '2019-11-30',
      '2020-02-01',
    ]);
    expect(dates(await huntText('d.log', log, { year: 2015 }, new Date('2020-03-01T12:00:00Z')))).toEqual([
      '2015-11-30',
      '2015-02-01',
    ]);
  });

  it('a "__proto__" key is a field, not the prototype that other fields are read from', async () => {
    const r = await huntText(
      'p.json',
      '{"ts":1680000000,"uid":"A","__proto__":{"id.orig_h":"6.6.6.6"},"query":"akamaicontainer.com"}\n',
    );
    expect(r.found).toEqual(['1 2023-03-28T10:40:00.000Z - query akamaicontainer.com akamaicontainer.com']);
  });

  it('a 16 MiB run of letters is scanned once, not once per letter', async () => {
    const r = await huntText('junk.log', `${'a'.repeat(15 << 20)} x.akamaicontainer.com\n`);
    expect(r.found.map((f) => f.split(' ')[0])).toEqual(['1']);
  }, 20_000);
});
