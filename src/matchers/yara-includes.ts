/** One `include` statement in a YARA source: where it is and, when a string follows, what it names. */
export interface IncludeDirective {
  line: number;
  column: number;
  target?: string;
}

/**
 * Token rules of the YARA-X tokenizer (parser/src/tokenizer/mod.rs, normal mode), as sticky regular expressions.
 * Only the tokens that can hide text (comments, string literals, regular expressions) or glue an `include` into a
 * longer token (identifiers, numbers, `$`/`#`/`@`/`!` pattern names) matter; any other character is taken alone,
 * so nothing is skipped that YARA-X would read as code. `.` of the Rust rules is `[^\n]` here (JS `.` also stops
 * at `\r` and U+2028).
 */
const COMMENTS_AND_REGEXPS: readonly RegExp[] = [
  /\/\/[^\n]*/y,
  /\/\*[^*]*\*+(?:[^/*][^*]*\*+)*\//y,
  /\/(?:\\[^\n]|[^*/\\\n])(?:\\[^\n]|[^\\/\n])*\/[A-Za-z]{0,2}/y,
];
const STRINGS: readonly RegExp[] = [/"""(?:\\[^\n]|[^"\\])*"""/y, /"(?:\\[^\n]|[^"\n\\])*"/y];
const PATTERN_NAME: readonly RegExp[] = [/[$#@!][A-Za-z0-9_]*/y];
const IDENTIFIER: readonly RegExp[] = [/[A-Za-z_][A-Za-z0-9_]*/y];
const NUMBERS: readonly RegExp[] = [/[0-9]+\.[0-9]+/y, /0x[a-fA-F0-9]+|0o[0-7]+|[0-9]+(?:KB|MB)?/y];

/** The normal-mode rules that can match at a token starting with `c` (each rule's first character is fixed). */
function normalRules(c: string): readonly RegExp[] {
  if (c === '/') return COMMENTS_AND_REGEXPS;
  if (c === '"') return STRINGS;
  if (c === '$' || c === '#' || c === '@' || c === '!') return PATTERN_NAME;
  if (/[A-Za-z_]/.test(c)) return IDENTIFIER;
  if (c >= '0' && c <= '9') return NUMBERS;
  return [];
}

/** Hex pattern mode (after `$name = {`): bytes, alternatives, comments; anything else returns to normal mode. */
const HEX: readonly RegExp[] = [/\/\/[^\n]*/y, /\/\*[^*]*\*+(?:[^/*][^*]*\*+)*\//y, /~?[?0-9a-fA-F]{2}/y];
/** Hex jump mode (inside `[...]` of a hex pattern); anything else returns to hex pattern mode. */
const JUMP: readonly RegExp[] = [/0x[a-fA-F0-9]+|0o[0-7]+|[0-9]+/y];
const SPACE = /[ \t\r\n\u00a0\u2000-\u200a\u202f\u205f]+/y;
const HEX_PUNCTUATION = new Set(['|', '(', ')', ']']);

type Mode = 'normal' | 'hex' | 'jump';

/**
 * Every `include` keyword in `text`, found the way YARA-X tokenizes it: never inside a comment, a string literal
 * or a regular expression, never as part of a longer name, whatever whitespace, comments or line breaks surround
 * it. It errs towards reporting: text YARA-X would reject as a token error is read as code.
 */
export function findIncludes(text: string): IncludeDirective[] {
  const found: IncludeDirective[] = [];
  let mode: Mode = 'normal';
  let pending: IncludeDirective | undefined;
  /** The two significant normal-mode tokens before this one, to see `$name = {` open a hex pattern. */
  let before = '';
  let last = '';
  let i = 0;
  while (i < text.length) {
    const space = matchAt(SPACE, text, i);
    if (space) {
      i += space.length;
      continue;
    }
    if (mode === 'jump') {
      const token = longest(JUMP, text, i) ?? (text[i] === '-' ? '-' : undefined);
      if (token) i += token.length;
      else if (text[i] === ']') {
        mode = 'hex';
        i++;
      } else mode = 'hex';
      continue;
    }
    if (mode === 'hex') {
      const token = longest(HEX, text, i) ?? (HEX_PUNCTUATION.has(text[i] as string) ? text[i] : undefined);
      if (token) i += token.length;
      else if (text[i] === '[') {
        mode = 'jump';
        i++;
      } else mode = 'normal';
      continue;
    }
    const c = text[i] as string;
    const token = longest(normalRules(c), text, i) ?? c;
    const isComment = token.startsWith('//') || token.startsWith('/*');
    if (!isComment) {
      if (pending) {
        if (token.startsWith('"') && token.length > 1) pending.target = unquote(token);
        pending = undefined;
      }
      if (token === 'include') {
        pending = { ...position(text, i) };
        found.push(pending);
      }
      if (token === '{' && last === '=' && before.startsWith('$')) mode = 'hex';
      before = last;
      last = token;
    }
    i += token.length;
  }
  return found;
}

function matchAt(pattern: RegExp, text: string, at: number): string | undefined {
  pattern.lastIndex = at;
  return pattern.exec(text)?.[0];
}

/** The longest token any of `patterns` matches at `at` (as logos picks), if any is non-empty. */
function longest(patterns: readonly RegExp[], text: string, at: number): string | undefined {
  let best: string | undefined;
  for (const pattern of patterns) {
    const token = matchAt(pattern, text, at);
    if (token && (!best || token.length > best.length)) best = token;
  }
  return best;
}

function position(text: string, at: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let n = text.indexOf('\n'); n >= 0 && n < at; n = text.indexOf('\n', n + 1)) {
    line++;
    lineStart = n + 1;
  }
  return { line, column: at - lineStart + 1 };
}

function unquote(literal: string): string {
  const quotes = literal.startsWith('"""') ? 3 : 1;
  return literal.slice(quotes, literal.length - quotes);
}
