import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import type { YaraSource } from '../core/intel.js';
import { generateSigningKey } from '../packs/keys.js';
import { signPack } from '../packs/sign-pack.js';
import { verifyPack } from '../packs/verify-pack.js';
import { signByHand } from '../testing/hand-signed-pack.js';
import { tempTree } from '../testing/temp-tree.js';
import { compileYara } from './yara-engine.js';
import { findIncludes } from './yara-includes.js';
import { compileNative, nativeEngineAvailable } from './yara-native.js';
import type { YaraEngineName } from './yara-types.js';

/** An unsigned rule file outside every pack, with a rule that matches "HELLO". */
const outside = tempTree({
  'x.yar': 'rule injected { strings: $a = "HELLO" condition: $a }\n',
  'y.yar': 'rule injected_too { condition: true }\n',
});
const X = join(outside, 'x.yar');
const engines: YaraEngineName[] = nativeEngineAvailable() ? ['wasm', 'native'] : ['wasm'];
const packSource = (text: string): YaraSource => ({
  packId: 'p',
  file: 'p/rules/a.yar',
  namespace: 'p/rules/a.yar',
  text,
});

/** Sources where `include` is a real statement: [text, line of each include]. */
const REAL: [string, number[]][] = [
  [`include "${X}"`, [1]],
  [`include"${X}"`, [1]],
  [`\t include \t "${X}"\r\n`, [1]],
  [`include\n\n"${X}"`, [1]],
  [`include /* gap */ "${X}"`, [1]],
  [`include // gap\n"${X}"`, [1]],
  [`rule a { condition: true }include "${X}"`, [1]],
  [`rule a { condition: true }\n// x\n/* y */ include "${X}"`, [3]],
  [`rule a { strings: $h = { 4D 5A [2-4] ?? } condition: $h }\ninclude "${X}"`, [2]],
  [`rule a { strings: $r = /a\\/b/i condition: $r }\ninclude "${X}"`, [2]],
  [`rule a { meta: s = "a\\"b" condition: true }\ninclude "${X}"`, [2]],
  [`rule a { meta: s = """two\nlines""" condition: true }\ninclude "${X}"`, [3]],
  [`rule a { condition: true }\u00a0include\u2003"${X}"`, [1]],
  [`include "${X}"\ninclude "${join(outside, 'y.yar')}"`, [1, 2]],
];

/** Sources where the word is not a statement: in comments, strings, regular expressions, longer names. */
const HIDDEN: string[] = [
  `// include "${X}"\nrule a { condition: true }`,
  `/* include "${X}" */ rule a { condition: true }`,
  `/* * include "${X}" **/ rule a { condition: true }`,
  `rule a { meta: s = "include \\"${X}\\"" condition: true }`,
  `rule a { meta: s = """\ninclude \\"${X}\\"\n""" condition: true }`,
  `rule a { strings: $r = /include "x"/ condition: $r }`,
  `rule include_loader { condition: true }`,
  `rule a { strings: $include = "x" condition: #include > 0 and @include[1] < 9 and !include[1] > 0 }`,
  `rule a { strings: $h = { 69 6E // include "${X}"\n 63 } condition: $h }`,
];

describe('findIncludes', () => {
  it.each(REAL)('finds the include statement in %j', (text, lines) => {
    expect(findIncludes(text).map((d) => d.line)).toEqual(lines);
    expect(findIncludes(text)[0]?.target).toBe(X);
  });

  it.each(HIDDEN)('finds no include statement in %j', (text) => {
    expect(findIncludes(text)).toEqual([]);
  });

  it('reads what YARA-X would reject as a token error as code, so nothing hides there', () => {
    expect(findIncludes(`/* never closed include "${X}"`)).toHaveLength(1);
    expect(findIncludes(`rule a { meta: s = "no closing quote\ninclude "${X}"`)).toHaveLength(1);
    expect(findIncludes(`\ufeffinclude "${X}"`)).toHaveLength(1);
    expect(findIncludes(`rule a { strings: $h = { ABinclude "${X}" } condition: $h }`)).toHaveLength(1);
  });

  it.runIf(nativeEngineAvailable())(
    'agrees with YARA-X on every case: it finds exactly what the engine would include',
    () => {
      const native = createRequire(import.meta.url)('@litko/yara-x-linux-x64-gnu') as {
        validate(s: string, o: object): { errors: { code: string }[] };
        compile(s: string, o?: object): { scan(b: Uint8Array): { ruleIdentifier: string }[] };
      };
      for (const [text] of REAL) {
        expect(native.validate(text, { enableIncludes: false }).errors.map((e) => e.code)).toContain('E044');
        const rules = native.compile(text);
        expect(rules.scan(Buffer.from('HELLO')).map((m) => m.ruleIdentifier)).toContain('injected');
      }
      for (const text of HIDDEN) {
        expect(native.validate(text, { enableIncludes: false }).errors).toEqual([]);
      }
      // Random sources built from real statements, rules and hiding places, joined by every kind of gap:
      // whatever YARA-X takes for an include, findIncludes finds, and a source it accepts has none.
      let seed = 7;
      const random = (n: number) => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
        return (((t ^ (t >>> 14)) >>> 0) % n) as number;
      };
      const pick = (options: readonly string[]) => options[random(options.length)] as string;
      const gaps = ['', ' ', '\n', '\t', '\r\n', '/* c */', '// c\n', '\u00a0', ' /**/ '];
      let includes = 0;
      let clean = 0;
      for (let n = 0; n < 400; n++) {
        const items = Array.from({ length: 1 + random(5) }, (_, k) =>
          pick([
            `include${pick(gaps)}"${X}"`,
            `rule r${k}${pick(gaps.slice(1))}{${pick(gaps)}condition:${pick(gaps)}true${pick(gaps)}}`,
            `rule r${k} { strings: $a = ${pick(['"include"', '/include/', '{ 69 6E [1] }', '"a\\"include"'])} condition: $a }`,
            `rule include${k} { meta: include_ = "include" condition: true }`,
            `// include "${X}"\n`,
            `/* include\n"${X}" */`,
          ]),
        );
        const text = items.join(pick(gaps.slice(1)));
        const errors = native.validate(text, { enableIncludes: false }).errors.map((e) => e.code);
        if (errors.includes('E044')) {
          includes++;
          expect(findIncludes(text), text).not.toEqual([]);
        }
        if (errors.length === 0) {
          clean++;
          expect(findIncludes(text), text).toEqual([]);
        }
      }
      expect(includes).toBeGreaterThan(50);
      expect(clean).toBeGreaterThan(50);
    },
  );
});

describe.each(engines)('rules of a signed pack with the %s engine', (engine) => {
  it('never include a file: the statement is refused with its line and the included rule never runs', () => {
    const compiled = compileYara(
      [
        packSource(`rule mine { condition: false }\ninclude "${X}"\n`),
        packSource('rule other { strings: $a = "HELLO" condition: $a }'),
      ],
      { engine },
    );
    expect(compiled.accepted).toHaveLength(1);
    expect(compiled.diagnostics).toEqual([
      expect.objectContaining({ level: 'error', file: 'p/rules/a.yar', line: 2 }),
    ]);
    expect(compiled.diagnostics[0]?.message).toContain('include');
    const matches = compiled.rules?.scan(Buffer.from('HELLO'), {}) ?? [];
    expect(matches.map((m) => m.rule)).toEqual(['other']);
    compiled.rules?.dispose();
  });
});

describe.runIf(nativeEngineAvailable())('the native engine on its own', () => {
  it('compiles a pack file with includes off, whatever the check before it found', () => {
    const compiled = compileNative([packSource(`include "${X}"\nrule mine { condition: false }`)]);
    expect(compiled.rules).toBeUndefined();
    expect(compiled.diagnostics).toEqual([
      expect.objectContaining({ level: 'error', line: 1, message: expect.stringContaining('[E044]') }),
    ]);
  });
});

describe.runIf(nativeEngineAvailable())('rule files given with --yara', () => {
  it('include relative to their own folder, whatever the working folder', () => {
    const dir = tempTree({
      'rules/main.yar': 'include "sub/more.yar"\nrule main { condition: false }\n',
      'rules/sub/more.yar': 'rule more { strings: $a = "HELLO" condition: $a }\n',
    });
    const file = join(dir, 'rules/main.yar');
    const user: YaraSource = {
      packId: 'local',
      file,
      namespace: `local/${file}`,
      text: 'include "sub/more.yar"\nrule main { condition: false }\n',
      includeDir: join(dir, 'rules'),
    };
    const compiled = compileYara([user, packSource('rule other { condition: false }')], { engine: 'native' });
    expect(compiled.diagnostics.filter((d) => d.level === 'error')).toEqual([]);
    expect(compiled.rules?.scan(Buffer.from('HELLO'), {}).map((m) => m.rule)).toEqual(['more']);
    compiled.rules?.dispose();
  });
});

describe('packs with an include statement', () => {
  it('are refused by signPack with the file and line', async () => {
    const dir = tempTree({
      'manifest.json': JSON.stringify({ id: 'inc', title: 'inc', references: [] }),
      'rules/a.yar': `rule a { condition: false }\n\n  include "${X}"\n`,
    });
    const { privateKeyPem } = generateSigningKey('k');
    const error = await signPack(dir, { privateKeyPem, keySource: 'k' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/^pack inc: rules\/a\.yar:3: include .*x\.yar/);
    expect((error as UserError).message).not.toContain('\n');
  });

  it('are refused by verifyPack even when the signature is good', async () => {
    const signing = generateSigningKey('k');
    const dir = tempTree();
    signByHand(
      dir,
      'inc',
      { 'rules/a.yar': `include "${X}"\nrule a { condition: false }\n` },
      signing.privateKeyPem,
    );
    const error = await verifyPack(dir, { keyring: [signing.key] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/^pack inc: rules\/a\.yar:1: include .*x\.yar/);
  });
});
