/**
 * The rule names a YARA source declares, and whether it has a `global` rule. A small scanner that skips
 * comments, string literals, regular expressions and rule bodies, so `rule` inside them is never taken for a
 * declaration.
 */
export function ruleNamesOf(text: string): { names: string[]; hasGlobal: boolean } {
  const names: string[] = [];
  let hasGlobal = false;
  let depth = 0;
  let i = 0;
  let modifiers: string[] = [];
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '/' && text[i + 1] === '/') {
      i = lineEnd(text, i);
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === '"') {
      i = quotedEnd(text, i, '"');
    } else if (c === '/' && depth > 0 && /=\s*$/.test(text.slice(Math.max(0, i - 8), i))) {
      i = quotedEnd(text, i, '/');
    } else if (c === '{') {
      depth++;
      i++;
    } else if (c === '}') {
      depth = Math.max(0, depth - 1);
      i++;
    } else if (depth === 0 && /[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_]\w*/.exec(text.slice(i, i + 256))?.[0] ?? c;
      if (word === 'rule') {
        const name = /^\s+([A-Za-z_]\w*)/.exec(text.slice(i + 4, i + 300))?.[1];
        if (name) names.push(name);
        if (modifiers.includes('global')) hasGlobal = true;
        modifiers = [];
      } else if (word === 'global' || word === 'private') {
        modifiers.push(word);
      } else if (word !== 'import' && word !== 'include') {
        modifiers = [];
      }
      i += word.length;
    } else {
      i++;
    }
  }
  return { names, hasGlobal };
}

function lineEnd(text: string, from: number): number {
  const end = text.indexOf('\n', from);
  return end < 0 ? text.length : end + 1;
}

function quotedEnd(text: string, from: number, quote: string): number {
  for (let i = from + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote || text[i] === '\n') return i + 1;
  }
  return text.length;
}
