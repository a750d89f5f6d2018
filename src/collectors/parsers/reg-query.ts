/** One key from `reg query ... /s` output, with its values as text. */
export interface RegQueryKey {
  path: string;
  values: Record<string, { type: string; data: string }>;
}

/** Parses the text `reg query <key> /s` prints on Windows (keys at column 0, values indented by four spaces). */
export function parseRegQuery(text: string): RegQueryKey[] {
  const keys: RegQueryKey[] = [];
  let current: RegQueryKey | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/^HKEY_[A-Z_]+(\\|$)/.test(line)) {
      current = { path: line.trim(), values: {} };
      keys.push(current);
      continue;
    }
    const m = /^ {4}(.*?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/.exec(line);
    if (m && current)
      current.values[m[1] === '(Default)' ? '' : (m[1] ?? '')] = { type: m[2] ?? '', data: m[3] ?? '' };
  }
  return keys;
}
