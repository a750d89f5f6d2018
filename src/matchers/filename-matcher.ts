import type { PackedIndicator } from '../core/intel.js';
import { MAX_REGEX_SUBJECT, toJsRegex } from '../core/regex-safety.js';
import { globToRegExp } from './glob.js';

interface PatternRule {
  indicator: PackedIndicator;
  regex: RegExp;
  falsePositive?: RegExp;
  /** Test against the whole path (true) or the base name only. */
  wholePath: boolean;
}

/**
 * File name and path indicators. Globs are case-insensitive: one without `/` matches the base name, one with `/`
 * matches the end of the path on folder boundaries. Regex indicators (Loki lists) search the whole path, written
 * with `/` and with `\`, so Windows-style patterns also match files of a mounted Windows image. Regexes that
 * could run in super-linear time are never compiled (toJsRegex refuses them), and a regex reads at most the last
 * MAX_REGEX_SUBJECT characters of a path, so a deep or long path costs bounded time.
 */
export class FilenameMatcher {
  private readonly exactNames = new Map<string, PackedIndicator[]>();
  private readonly patterns: PatternRule[] = [];

  constructor(indicators: readonly PackedIndicator[]) {
    for (const indicator of indicators) {
      if (indicator.kind !== 'filename') continue;
      const falsePositive = indicator.falsePositive ? toJsRegex(indicator.falsePositive) : undefined;
      const fp = falsePositive instanceof RegExp ? { falsePositive } : {};
      if (indicator.syntax === 'regex') {
        const regex = toJsRegex(indicator.value);
        if (regex instanceof RegExp) this.patterns.push({ indicator, regex, wholePath: true, ...fp });
      } else if (
        !indicator.value.includes('/') &&
        !/[*?[]/.test(indicator.value) &&
        !indicator.falsePositive
      ) {
        const key = indicator.value.toLowerCase();
        this.exactNames.set(key, [...(this.exactNames.get(key) ?? []), indicator]);
      } else {
        const glob =
          indicator.value.includes('/') &&
          !indicator.value.startsWith('/') &&
          !indicator.value.startsWith('**')
            ? `**/${indicator.value}`
            : indicator.value;
        this.patterns.push({ indicator, regex: globToRegExp(glob), wholePath: glob.includes('/'), ...fp });
      }
    }
  }

  get size(): number {
    return this.exactNames.size + this.patterns.length;
  }

  /** Indicators matching `path`, a path written with forward slashes. */
  match(path: string): PackedIndicator[] {
    const base = path.slice(path.lastIndexOf('/') + 1);
    const hits = [...(this.exactNames.get(base.toLowerCase()) ?? [])];
    if (this.patterns.length === 0) return hits;
    let subject: string | undefined;
    let backslashed: string | undefined;
    for (const rule of this.patterns) {
      let matched: boolean;
      if (!rule.wholePath) matched = rule.regex.test(base);
      else if (rule.indicator.syntax === 'regex') {
        subject ??= path.length > MAX_REGEX_SUBJECT ? path.slice(-MAX_REGEX_SUBJECT) : path;
        backslashed ??= subject.replaceAll('/', '\\');
        matched = rule.regex.test(subject) || rule.regex.test(backslashed);
        if (matched && rule.falsePositive) {
          matched = !(rule.falsePositive.test(subject) || rule.falsePositive.test(backslashed));
        }
      } else matched = rule.regex.test(path);
      if (matched && rule.falsePositive && rule.indicator.syntax !== 'regex')
        matched = !rule.falsePositive.test(path);
      if (matched) hits.push(rule.indicator);
    }
    return hits;
  }
}
