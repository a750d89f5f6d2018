import { Random } from './random.js';

/** One generated rule with the marker strings a planted file needs to match it. */
export interface GeneratedRule {
  name: string;
  file: string;
  text: string;
  /** Bytes that, placed in a PE-like file, make this rule match. */
  trigger: Buffer;
}

/**
 * A large synthetic rule set shaped like public ones (signature-base, YARA Forge): many files, each with a few
 * rules of text, wide, nocase and hex strings with jumps, gated by a magic check and `n of them`. Only features
 * that YARA 4.2 and ClamAV's YARA subset also accept, so every tool runs the same rules.
 */
export function generateRuleSet(files: number, seed: number): GeneratedRule[] {
  const random = new Random(seed);
  const rules: GeneratedRule[] = [];
  for (let f = 0; f < files; f++) {
    const file = `gen_${String(f).padStart(4, '0')}.yar`;
    const perFile = random.int(1, 3);
    for (let r = 0; r < perFile; r++) {
      const name = `Bench_${f}_${r}_${random.word(6)}`;
      const a = `${random.word(random.int(8, 16))}.${random.pick(['dll', 'exe', 'sys', 'dat'])}`;
      const b = `${random.word(4)}_${random.word(random.int(6, 12))}`;
      const c = random.bytes(random.int(6, 10));
      const d = `${random.pick(['Software\\Microsoft\\', 'cmd.exe /c ', 'powershell -enc ', 'http://'])}${random.word(8)}`;
      const hex = [...c].map((x) => x.toString(16).padStart(2, '0').toUpperCase());
      const withJump = [...hex.slice(0, 3), `[2-4]`, ...hex.slice(3)].join(' ');
      const text = [
        `rule ${name}`,
        '{',
        '  meta:',
        `    description = "generated benchmark rule ${name}"`,
        '    score = 70',
        '  strings:',
        `    $a = "${a}" ascii wide`,
        `    $b = "${b}" nocase`,
        `    $c = { ${withJump} }`,
        `    $d = "${d.replaceAll('\\', '\\\\')}"`,
        '  condition:',
        '    uint16(0) == 0x5A4D and 2 of them',
        '}',
      ].join('\n');
      rules.push({
        name,
        file,
        text,
        trigger: Buffer.concat([Buffer.from(`${a}\0`, 'latin1'), Buffer.from(`${d}\0`, 'latin1')]),
      });
    }
  }
  return rules;
}
