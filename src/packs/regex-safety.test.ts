import { describe, expect, it } from 'vitest';
import { regexProblem } from '../core/regex-safety.js';
import { FilenameMatcher } from '../matchers/filename-matcher.js';
import { parseIocList } from './ioc-list.js';

const SUPER_LINEAR = [
  '(a+)+$',
  '(a|a)*$',
  '(.*)*x',
  '(\\w+\\s?)+$',
  '(a{1,5})+$',
  '(a|ab)*c',
  '(a?)*$',
  '.*a.*b',
  '\\d+\\d+$',
];
const UNSUPPORTED = ['(a)\\1', '(?<x>a)\\k<x>', '(?=a)b', '(?!a)b', '(?<=a)b', '(?<!a)b'];
// Lines of Loki's own filename-iocs.txt: all linear, all kept.
const LOKI = [
  '\\\\svcsstat\\.exe',
  '\\\\(server|servisces|smrr|srrm|svchost|svhost|svshost|taskmrg)\\.exe$',
  '(TEMP|Temp)\\\\[^\\\\]+\\.(xmd|yls)$',
  '(LOCAL SETTINGS\\\\Temp|Local Settings\\\\Temp|Local\\\\Temp)\\\\(word\\.exe|winword\\.exe)[^\\.]',
  '(Mailing|Shipment).*Label\\.exe',
  '\\\\AppData\\\\Roaming\\\\Microsoft\\\\[^\\\\]{1,32}\\.(exe|doc|zip)',
  '[\\s]{7,}\\.(exe|com|dll|bat|scr|vbs)',
  '\\\\pak\\-[0-9]{3,}.exe$',
  '(?i)\\\\(temp|tmp)\\\\server\\.exe',
  'Fonts\\\\[\\w]+\\.exe$',
  '\\\\New\\sFolder[^\\\\]+\\.exe',
  '[Cc]:\\\\[\\w]{1,2}\\.(exe|com|scr)',
];

describe('regex IOC safety', () => {
  it.each(SUPER_LINEAR)('rejects the super-linear %s', (pattern) => {
    expect(regexProblem(pattern, '')).toMatch(/super-linear|quantifier|alternat|empty/);
  });

  it.each(UNSUPPORTED)('rejects backreferences and lookaround: %s', (pattern) => {
    expect(regexProblem(pattern, '')).toMatch(/backreference|lookaround/);
  });

  it.each(LOKI)('keeps the linear Loki pattern %s', (pattern) => {
    const flags = pattern.startsWith('(?i)') ? 'i' : '';
    expect(regexProblem(pattern.replace(/^\(\?i\)/, ''), flags)).toBeUndefined();
  });

  it('names the line of each rejected pattern, loads the rest, and matches a long path quickly', () => {
    const list = [...SUPER_LINEAR.map((p) => `${p};80`), '\\\\evil-dropper\\.exe$;90'].join('\n');
    const parsed = parseIocList(list, 'filename-iocs.txt', 'filename');
    expect(parsed.diagnostics.map((d) => d.line)).toEqual(SUPER_LINEAR.map((_, i) => i + 1));
    expect(parsed.diagnostics[0]?.message).toMatch(/^regular expression "\(a\+\)\+\$" /);
    expect(parsed.indicators.map((i) => i.value)).toEqual(['\\\\evil-dropper\\.exe$']);

    // Even if a super-linear pattern reached the matcher (a signed pack), it is refused there, not run.
    const packed = [...SUPER_LINEAR, ...LOKI, '\\\\evil-dropper\\.exe$'].map((value, n) => ({
      id: `p${n}`,
      kind: 'filename' as const,
      syntax: 'regex' as const,
      value,
      title: 't',
      severity: 'high' as const,
      confidence: 'high' as const,
      references: [],
      packId: 'x',
    }));
    const matcher = new FilenameMatcher(packed);
    const long = `/${'a/'.repeat(20_000)}${'a'.repeat(5000)}!`;
    const started = performance.now();
    expect(matcher.match(long)).toEqual([]);
    expect(matcher.match(`/${'\\a'.repeat(3000)}/Mailing/xLabel.exe`).map((i) => i.id)).toEqual(['p13']);
    expect(matcher.match('/x/evil-dropper.exe').map((i) => i.id)).toEqual([`p${packed.length - 1}`]);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
