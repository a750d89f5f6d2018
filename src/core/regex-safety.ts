/**
 * @module Static checks that keep regex IOCs linear on V8's backtracking engine. A pattern is parsed into a small
 * AST and refused when it uses what a backtracker cannot bound (backreferences, lookaround) or a construct whose
 * backtracking grows faster than the subject: a variable quantifier over something that can itself vary in
 * length (`(a+)+`, `(a{1,5})*`), can match the empty string (`(a?)*`) or can be split two ways (`(a|ab)*`), and two
 * long quantifiers that can both take the same characters with nothing between them to tell where one ends
 * (`.*a.*b`, `\d+\d+$`). What remains costs at most the subject's length per start position, and the matcher
 * applies regexes to at most MAX_REGEX_SUBJECT characters.
 */

/** Regex IOCs are applied to at most this many characters of a path (its end, where the file name is). */
export const MAX_REGEX_SUBJECT = 1024;

/** A quantifier spanning more repetitions than this counts as unbounded. */
const LONG_SPAN = 64;

/** Sorted, disjoint, inclusive ranges of UTF-16 code units. */
type CharSet = readonly (readonly [number, number])[];

type Node =
  | { t: 'set'; chars: CharSet }
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'rep'; body: Node; min: number; max: number }
  | { t: 'assert' };

class Unsafe extends Error {}

/** Why `source` (a JS regex source with `flags`) may run in super-linear time, or undefined when it is linear. */
export function regexProblem(source: string, flags: string): string | undefined {
  try {
    const ast = new Parser(source, flags).parse();
    checkNesting(ast, false);
    checkSequences(ast);
    return undefined;
  } catch (error) {
    if (error instanceof Unsafe) return error.message;
    throw error;
  }
}

const MAX_CODE = 0xffff;
const range = (lo: number, hi: number): CharSet => [[lo, hi]];
const DIGIT = range(48, 57);
const WORD: CharSet = [
  [48, 57],
  [65, 90],
  [95, 95],
  [97, 122],
];
const SPACE: CharSet = normalise([
  [9, 13],
  [32, 32],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]);
const LINE_ENDS: CharSet = normalise([
  [10, 10],
  [13, 13],
  [0x2028, 0x2029],
]);

function normalise(ranges: (readonly [number, number])[]): CharSet {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function union(...sets: CharSet[]): CharSet {
  return normalise(sets.flat());
}

function complement(set: CharSet): CharSet {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE) out.push([next, MAX_CODE]);
  return out;
}

function intersects(a: CharSet, b: CharSet): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [alo, ahi] = a[i] as [number, number];
    const [blo, bhi] = b[j] as [number, number];
    if (alo <= bhi && blo <= ahi) return true;
    if (ahi < bhi) i++;
    else j++;
  }
  return false;
}

/** Adds the other case of ASCII letters (enough to see overlaps; other scripts' case pairs are not added). */
function foldCase(set: CharSet): CharSet {
  const extra: [number, number][] = [];
  for (const [lo, hi] of set) {
    for (const [from, to, shift] of [
      [65, 90, 32],
      [97, 122, -32],
    ] as const) {
      const a = Math.max(lo, from);
      const b = Math.min(hi, to);
      if (a <= b) extra.push([a + shift, b + shift]);
    }
  }
  return union(set, extra);
}

/** A recursive-descent parser for JS regex syntax (without the `u` flag), just enough to judge its cost. */
class Parser {
  private at = 0;
  private readonly ignoreCase: boolean;
  private readonly dotAll: boolean;

  constructor(
    private readonly src: string,
    flags: string,
  ) {
    this.ignoreCase = flags.includes('i');
    this.dotAll = flags.includes('s');
  }

  parse(): Node {
    const node = this.disjunction();
    if (this.at < this.src.length) throw new Unsafe(`unbalanced ")" at offset ${this.at}`);
    return node;
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.at + offset];
  }

  private disjunction(): Node {
    const alts = [this.alternative()];
    while (this.peek() === '|') {
      this.at++;
      alts.push(this.alternative());
    }
    return alts.length === 1 ? (alts[0] as Node) : { t: 'alt', alts };
  }

  private alternative(): Node {
    const items: Node[] = [];
    while (this.at < this.src.length && this.peek() !== '|' && this.peek() !== ')') {
      const atom = this.atom();
      items.push(atom.t === 'assert' ? atom : this.quantified(atom));
    }
    return items.length === 1 ? (items[0] as Node) : { t: 'seq', items };
  }

  private quantified(atom: Node): Node {
    const c = this.peek();
    let min: number;
    let max: number;
    if (c === '*' || c === '+' || c === '?') {
      this.at++;
      [min, max] = c === '*' ? [0, Infinity] : c === '+' ? [1, Infinity] : [0, 1];
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.at));
      if (!m) return atom;
      this.at += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] ? Number(m[3]) : Infinity;
    } else return atom;
    if (this.peek() === '?') this.at++;
    return { t: 'rep', body: atom, min, max };
  }

  private atom(): Node {
    const c = this.peek() as string;
    this.at++;
    switch (c) {
      case '^':
      case '$':
        return { t: 'assert' };
      case '.':
        return this.set(this.dotAll ? range(0, MAX_CODE) : complement(LINE_ENDS));
      case '[':
        return this.set(this.charClass());
      case '(':
        return this.group();
      case '\\':
        return this.escape();
      default:
        return this.set(range(c.charCodeAt(0), c.charCodeAt(0)));
    }
  }

  private set(chars: CharSet): Node {
    return { t: 'set', chars: this.ignoreCase ? foldCase(chars) : chars };
  }

  private group(): Node {
    if (this.peek() === '?') {
      const kind = this.src.slice(this.at, this.at + 3);
      if (/^\?[=!]/.test(kind) || /^\?<[=!]/.test(kind))
        throw new Unsafe('uses lookaround, which is not supported in regex IOCs');
      if (kind.startsWith('?:')) this.at += 2;
      else if (kind.startsWith('?<')) {
        const end = this.src.indexOf('>', this.at);
        if (end < 0) throw new Unsafe('unterminated group name');
        this.at = end + 1;
      }
    }
    const inner = this.disjunction();
    if (this.peek() !== ')') throw new Unsafe('unterminated group');
    this.at++;
    return inner;
  }

  private escape(): Node {
    const c = this.peek();
    if (c === undefined) throw new Unsafe('ends with a lone backslash');
    if (c === 'b' || c === 'B') {
      this.at++;
      return { t: 'assert' };
    }
    if (/[1-9]/.test(c) || (c === 'k' && this.peek(1) === '<'))
      throw new Unsafe('uses a backreference, which is not supported in regex IOCs');
    return this.set(this.classEscape());
  }

  /** The character set of an escape after `\` (inside or outside a class); advances past it. */
  private classEscape(): CharSet {
    const c = this.peek() as string;
    this.at++;
    const classes: Record<string, CharSet> = {
      d: DIGIT,
      D: complement(DIGIT),
      w: WORD,
      W: complement(WORD),
      s: SPACE,
      S: complement(SPACE),
    };
    const named = classes[c];
    if (named) return named;
    const controls: Record<string, number> = { t: 9, n: 10, v: 11, f: 12, r: 13, '0': 0 };
    if (controls[c] !== undefined && !(c === '0' && /\d/.test(this.peek() ?? ''))) {
      const code = controls[c] as number;
      return range(code, code);
    }
    const hex = c === 'x' ? /^[0-9a-fA-F]{2}/ : c === 'u' ? /^[0-9a-fA-F]{4}/ : undefined;
    const digits = hex?.exec(this.src.slice(this.at))?.[0];
    if (digits) {
      this.at += digits.length;
      const code = Number.parseInt(digits, 16);
      return range(code, code);
    }
    if (c === 'c' && /[A-Za-z]/.test(this.peek() ?? '')) {
      const code = (this.peek() as string).charCodeAt(0) % 32;
      this.at++;
      return range(code, code);
    }
    return range(c.charCodeAt(0), c.charCodeAt(0));
  }

  private charClass(): CharSet {
    const negated = this.peek() === '^';
    if (negated) this.at++;
    const parts: CharSet[] = [];
    while (this.peek() !== ']') {
      if (this.at >= this.src.length) throw new Unsafe('unterminated character class');
      const lo = this.classAtom();
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.at++;
        const hi = this.classAtom();
        const single = (s: CharSet) => s.length === 1 && s[0]?.[0] === s[0]?.[1];
        if (single(lo) && single(hi)) {
          parts.push(range(lo[0]?.[0] as number, hi[0]?.[0] as number));
          continue;
        }
        parts.push(lo, hi, range(45, 45));
        continue;
      }
      parts.push(lo);
    }
    this.at++;
    const set = union(...parts);
    return negated ? complement(set) : set;
  }

  private classAtom(): CharSet {
    const c = this.peek() as string;
    this.at++;
    if (c !== '\\') return range(c.charCodeAt(0), c.charCodeAt(0));
    if (this.peek() === 'b') {
      this.at++;
      return range(8, 8);
    }
    return this.classEscape();
  }
}

function varies(node: Node): boolean {
  return node.t === 'rep' && node.min !== node.max;
}

function nullable(node: Node): boolean {
  switch (node.t) {
    case 'set':
      return false;
    case 'assert':
      return true;
    case 'seq':
      return node.items.every(nullable);
    case 'alt':
      return node.alts.some(nullable);
    case 'rep':
      return node.min === 0 || nullable(node.body);
  }
}

function first(node: Node): CharSet {
  switch (node.t) {
    case 'set':
      return node.chars;
    case 'assert':
      return [];
    case 'seq': {
      const sets: CharSet[] = [];
      for (const item of node.items) {
        sets.push(first(item));
        if (!nullable(item)) break;
      }
      return union(...sets);
    }
    case 'alt':
      return union(...node.alts.map(first));
    case 'rep':
      return first(node.body);
  }
}

/** Every character `node` can consume. */
function alphabet(node: Node): CharSet {
  switch (node.t) {
    case 'set':
      return node.chars;
    case 'assert':
      return [];
    case 'seq':
      return union(...node.items.map(alphabet));
    case 'alt':
      return union(...node.alts.map(alphabet));
    case 'rep':
      return alphabet(node.body);
  }
}

/** Refuses a variable quantifier over a body that varies in length, can be empty, or can be split two ways. */
function checkNesting(node: Node, underVariable: boolean): void {
  switch (node.t) {
    case 'set':
    case 'assert':
      return;
    case 'seq':
      for (const item of node.items) checkNesting(item, underVariable);
      return;
    case 'alt':
      if (underVariable) {
        if (node.alts.some(nullable))
          throw new Unsafe('has an alternative that can match nothing under a quantifier (super-linear)');
        const firsts = node.alts.map(first);
        for (let i = 0; i < firsts.length; i++)
          for (let j = i + 1; j < firsts.length; j++)
            if (intersects(firsts[i] as CharSet, firsts[j] as CharSet))
              throw new Unsafe(
                'has alternatives that can start with the same character under a quantifier (super-linear)',
              );
      }
      for (const alt of node.alts) checkNesting(alt, underVariable);
      return;
    case 'rep':
      if (varies(node)) {
        if (underVariable) throw new Unsafe('nests a variable quantifier inside another (super-linear)');
        if (nullable(node.body))
          throw new Unsafe('repeats a part that can match nothing under a quantifier (super-linear)');
      }
      checkNesting(node.body, underVariable || (varies(node) && node.max > 1));
      return;
  }
}

type Token = { rep: Node & { t: 'rep' }; follow: CharSet } | { cut: CharSet };

/**
 * Refuses two long quantifiers in sequence when the first can stop at more than one place (it can take what
 * follows it) and nothing mandatory between them is outside the second's characters: every stop of the first
 * then rescans the second's run, which multiplies their lengths.
 */
function checkSequences(ast: Node): void {
  const tokens: Token[] = [];
  linearise(ast, [], true, tokens);
  for (let i = 0; i < tokens.length; i++) {
    const a = tokens[i] as Token;
    if (!('rep' in a) || !isLong(a.rep) || !intersects(alphabet(a.rep.body), a.follow)) continue;
    const cuts: CharSet[] = [];
    for (let j = i + 1; j < tokens.length; j++) {
      const b = tokens[j] as Token;
      if ('cut' in b) {
        cuts.push(b.cut);
        continue;
      }
      if (!isLong(b.rep)) continue;
      const second = alphabet(b.rep.body);
      if (intersects(alphabet(a.rep.body), second) && !cuts.some((cut) => !intersects(cut, second)))
        throw new Unsafe(
          'has two unbounded quantifiers that can take the same characters, so where the first ends is ambiguous (super-linear)',
        );
    }
  }
}

function isLong(rep: Node & { t: 'rep' }): boolean {
  return rep.max - rep.min > LONG_SPAN;
}

/** The pattern in text order: long quantifiers with their follow sets, and mandatory single characters. */
function linearise(node: Node, follow: CharSet, mandatory: boolean, out: Token[]): void {
  switch (node.t) {
    case 'assert':
      return;
    case 'set':
      if (mandatory) out.push({ cut: node.chars });
      return;
    case 'seq': {
      const follows: CharSet[] = [];
      let next = follow;
      for (let i = node.items.length - 1; i >= 0; i--) {
        follows[i] = next;
        const item = node.items[i] as Node;
        next = nullable(item) ? union(first(item), next) : first(item);
      }
      node.items.forEach((item, i) => {
        linearise(item, follows[i] as CharSet, mandatory, out);
      });
      return;
    }
    case 'alt':
      for (const alt of node.alts) linearise(alt, follow, false, out);
      return;
    case 'rep':
      if (isLong(node)) {
        out.push({ rep: node, follow });
        return;
      }
      linearise(
        node.body,
        node.max > 1 ? union(first(node.body), follow) : follow,
        mandatory && node.min > 0,
        out,
      );
      return;
  }
}

/**
 * Converts a Python-style regex (Loki lists) to a JS RegExp (`(?i)` becomes the `i` flag), or an Error naming the
 * pattern when it is invalid or could run in super-linear time (see regex-safety.ts): such patterns never run.
 */
export function toJsRegex(pattern: string): RegExp | Error {
  let source = pattern;
  let flags = '';
  const inline = /^\(\?([imsx]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    flags = [...new Set(inline[1]?.replace('x', '') ?? '')].join('');
  }
  source = source.replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>').replace(/\\Z/g, '$');
  const quoted = JSON.stringify(truncate(pattern));
  let regex: RegExp;
  try {
    regex = new RegExp(source, flags);
  } catch (error) {
    return new Error(`invalid regular expression ${quoted}: ${(error as Error).message}`);
  }
  const problem = regexProblem(regex.source, regex.flags);
  return problem ? new Error(`regular expression ${quoted} ${problem}`) : regex;
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
