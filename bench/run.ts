/**
 * `npm run bench`: builds the deterministic tree, then times chainsweep, yara, ClamAV and sha256sum on it in one
 * run, checks every tool reports the planted positives, and prints a Markdown report (also written to
 * bench/.work/results.md). Installs yara, clamav and ripgrep from Debian when they are missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLogCorpus } from './logs.js';
import { generateRuleSet } from './rules.js';
import { bigSparseFile, buildTree, type PlantedFile } from './tree.js';
import { buildWindowsImage } from './windows-image.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORK = join(ROOT, 'bench/.work');
const CLI = join(ROOT, 'dist/bin/chainsweep.js');
const PACK_RULES = join(ROOT, 'packs/3cx-2023/rules/3cx-2023.yar');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const THREADS = availableParallelism();

interface Timing {
  tool: string;
  seconds: number;
  maxRssMiB: number;
  stdout: string;
}

function ensureDebianPackages(): void {
  const missing = [
    ['yara', 'yara'],
    ['clamscan', 'clamav'],
    ['rg', 'ripgrep'],
  ].filter(([bin]) => spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0);
  if (missing.length === 0) return;
  log(`installing ${missing.map(([, pkg]) => pkg).join(', ')} from Debian`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing.map(([, pkg]) => pkg as string)], {
    stdio: 'inherit',
  });
}

/** Runs a command RUNS times after one warm-up; reports the median wall time and the largest peak RSS. */
function time(tool: string, command: string[], okCodes = [0, 1]): Timing {
  const once = () => {
    const started = process.hrtime.bigint();
    const result = spawnSync('/usr/bin/time', ['-f', '%M', ...command], {
      maxBuffer: 1 << 30,
      encoding: 'utf8',
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.status === null || !okCodes.includes(result.status)) {
      throw new Error(`${tool} failed (${result.status}): ${result.stderr.slice(-2000)}`);
    }
    const rssKiB = Number(result.stderr.trim().split('\n').pop());
    return { seconds, rss: rssKiB / 1024, stdout: result.stdout };
  };
  once();
  const runs = Array.from({ length: RUNS }, once);
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const median = sorted[Math.floor(sorted.length / 2)] ?? sorted[0];
  if (!median) throw new Error('no runs');
  log(`${tool}: ${median.seconds.toFixed(2)} s, ${Math.max(...runs.map((r) => r.rss)).toFixed(0)} MiB`);
  return {
    tool,
    seconds: median.seconds,
    maxRssMiB: Math.max(...runs.map((r) => r.rss)),
    stdout: median.stdout,
  };
}

function chainsweepPaths(outputFile: string): Set<string> {
  const report = JSON.parse(readFileSync(outputFile, 'utf8')) as {
    findings: { subject: { path?: string } }[];
  };
  return new Set(report.findings.map((f) => f.subject.path ?? ''));
}

function yaraPaths(stdout: string): Set<string> {
  return new Set(
    stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(line.indexOf(' ') + 1)),
  );
}

function clamPaths(stdout: string): Set<string> {
  return new Set(
    stdout
      .split('\n')
      .filter((l) => l.endsWith(' FOUND'))
      .map((l) => l.slice(0, l.lastIndexOf(': '))),
  );
}

function coverage(found: Set<string>, expected: PlantedFile[]): string {
  const missed = expected.filter((p) => !found.has(p.path));
  return `${expected.length - missed.length}/${expected.length}${
    missed.length
      ? ` (missed ${missed
          .slice(0, 3)
          .map((m) => m.path.split('/').pop())
          .join(', ')})`
      : ''
  }`;
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** Inventory of a Windows image with 200 user profiles and ~20k files under them. */
function inventoryBench(): string {
  const image = join(WORK, 'windows-image');
  const { files } = buildWindowsImage(image, 200);
  const run = time('chainsweep inventory (200 profiles)', [
    'node',
    CLI,
    'inventory',
    '--root',
    image,
    '--format',
    'json',
    '--output',
    join(WORK, 'inventory.json'),
  ]);
  const report = JSON.parse(readFileSync(join(WORK, 'inventory.json'), 'utf8')) as {
    inventory: { apps: unknown[]; verdicts: { verdict: string }[] };
  };
  const affected = report.inventory.verdicts.filter((v) => v.verdict === 'affected').length;
  return `Inventory of a Windows image, 200 profiles, ${files} files: ${run.seconds.toFixed(2)} s, ${run.maxRssMiB.toFixed(0)} MiB peak; ${report.inventory.apps.length} apps, ${affected} affected 3CX installs (100 expected: 50 program folders + 50 user Uninstall keys).\n`;
}

/** Hunting a 1 GB log corpus for 10,000 domains, against grep -F and rg -F (substring matchers). */
async function huntBench(): Promise<string> {
  const pack = JSON.parse(readFileSync(join(ROOT, 'packs/3cx-2023/indicators.json'), 'utf8')) as {
    indicators: { kind: string; value: string }[];
  };
  const corpus = await buildLogCorpus(
    join(WORK, 'logs'),
    pack.indicators.filter((i) => i.kind === 'domain').map((i) => i.value),
  );
  execFileSync('sh', ['-c', `cat ${corpus.files.join(' ')} > /dev/null`]);
  const gb = corpus.bytes / 1e9;
  const lineSets = (stdout: string) => {
    const found: Record<string, Set<number>> = {};
    for (const line of stdout.split('\n')) {
      const m = /^(.*?):(\d+):/.exec(line);
      if (m?.[1] && m[2]) {
        const set = found[m[1]] ?? new Set<number>();
        set.add(Number(m[2]));
        found[m[1]] = set;
      }
    }
    return found;
  };
  const score = (found: Record<string, Set<number>>) => {
    let hits = 0;
    let missed = 0;
    let falsePositives = 0;
    for (const [file, t] of Object.entries(corpus.truth)) {
      const lines = found[file] ?? new Set<number>();
      for (const l of t.hits) lines.has(l) ? hits++ : missed++;
      for (const l of t.decoys) if (lines.has(l)) falsePositives++;
    }
    return { hits, missed, falsePositives };
  };
  const out = join(WORK, 'hunt.json');
  const runs = {
    grep: time('grep -F -f', ['grep', '-F', '-n', '-H', '-f', corpus.domainsFile, ...corpus.files]),
    rg: time('rg -F -f', [
      'rg',
      '-F',
      '-n',
      '-H',
      '--no-heading',
      '-j',
      String(THREADS),
      '-f',
      corpus.domainsFile,
      ...corpus.files,
    ]),
    chainsweep: time('chainsweep hunt', [
      'node',
      CLI,
      'hunt',
      ...corpus.files,
      '--ioc',
      corpus.domainsFile,
      '--format',
      'json',
      '--output',
      out,
    ]),
    chainsweep1: time('chainsweep hunt --threads 1', [
      'node',
      CLI,
      'hunt',
      ...corpus.files,
      '--ioc',
      corpus.domainsFile,
      '--threads',
      '1',
      '--format',
      'json',
      '--output',
      out,
    ]),
  };
  const report = JSON.parse(readFileSync(out, 'utf8')) as {
    findings: { subject: { log?: { file: string; line: number } } }[];
  };
  const ours: Record<string, Set<number>> = {};
  for (const f of report.findings) {
    if (!f.subject.log) continue;
    const set = ours[f.subject.log.file] ?? new Set<number>();
    set.add(f.subject.log.line);
    ours[f.subject.log.file] = set;
  }
  const planted = Object.values(corpus.truth).reduce((n, t) => n + t.hits.length, 0);
  const decoys = Object.values(corpus.truth).reduce((n, t) => n + t.decoys.length, 0);
  const row = (name: string, t: Timing, s: ReturnType<typeof score>) =>
    `| ${name} | ${t.seconds.toFixed(2)} | ${((gb / t.seconds) * 1000).toFixed(0)} | ${(runs.grep.seconds / t.seconds).toFixed(2)} | ${s.hits}/${planted} | ${s.missed} | ${s.falsePositives}/${decoys} | ${t.maxRssMiB.toFixed(0)} |`;
  return [
    `Log corpus: ${corpus.files.length} files, ${(corpus.bytes / 1e9).toFixed(2)} GB, 8,000,000 lines; 10,000 indicator domains plus the 3CX pack's; ${planted} planted hits (subdomains, upper case), ${decoys} look-alike decoys.`,
    '',
    '| tool | wall s | MB/s | throughput vs grep -F | planted found | missed | decoys reported | peak RSS MiB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    row('grep -F -f', runs.grep, score(lineSets(runs.grep.stdout))),
    row('rg -F -f', runs.rg, score(lineSets(runs.rg.stdout))),
    row('chainsweep hunt (2 threads)', runs.chainsweep, score(ours)),
    row('chainsweep hunt --threads 1', runs.chainsweep1, score(ours)),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error('run `npm run build` first');
  if (process.env.BENCH_ONLY === 'inventory') {
    mkdirSync(WORK, { recursive: true });
    process.stdout.write(inventoryBench());
    return;
  }
  if (process.env.BENCH_ONLY === 'hunt') {
    ensureDebianPackages();
    process.stdout.write(await huntBench());
    return;
  }
  ensureDebianPackages();
  mkdirSync(WORK, { recursive: true });

  const rules = generateRuleSet(400, 7);
  const rulesDir = join(WORK, 'rules');
  mkdirSync(rulesDir, { recursive: true });
  const byFile = new Map<string, string[]>();
  for (const rule of rules) byFile.set(rule.file, [...(byFile.get(rule.file) ?? []), rule.text]);
  for (const [file, texts] of byFile) writeFileSync(join(rulesDir, file), `${texts.join('\n\n')}\n`);

  log('building the tree (first run writes ~1.1 GB)');
  const tree = buildTree(join(WORK, 'tree'), rules, join(ROOT, 'packs/3cx-2023/tests/match'));
  const hashPlanted = tree.planted.filter((p) => p.sha256);
  writeFileSync(
    join(WORK, 'hashes.txt'),
    hashPlanted.map((p) => `${p.sha256};planted hash positive`).join('\n'),
  );
  writeFileSync(
    join(WORK, 'hashes.hsb'),
    hashPlanted.map((p, i) => `${p.sha256}:${statSync(p.path).size}:planted_${i}`).join('\n'),
  );
  log(`tree: ${tree.files} files, ${(tree.bytes / 1e9).toFixed(2)} GB`);
  execFileSync('sh', ['-c', `find ${tree.root} -type f -print0 | xargs -0 cat > /dev/null`]);

  const out = (name: string) => join(WORK, `${name}.json`);
  const sweep = (name: string, extra: string[]) => [
    'node',
    CLI,
    'scan',
    tree.root,
    '--ioc',
    join(WORK, 'hashes.txt'),
    '--format',
    'json',
    '--output',
    out(name),
    ...extra,
  ];
  const rows: string[] = [];
  const check: string[] = [];
  const pack3cx = tree.planted.filter((p) => p.rules.includes('3cx'));
  const generated = tree.planted.filter((p) => p.rules.length > 0 && !p.rules.includes('3cx'));

  // Small rule set: the 3CX pack.
  const small = {
    sha256sum: time('sha256sum', [
      'sh',
      '-c',
      `find ${tree.root} -type f -print0 | xargs -0 -n 512 -P ${THREADS} sha256sum > /dev/null`,
    ]),
    yara: time('yara (3cx)', ['yara', '-r', '-w', '-p', String(THREADS), PACK_RULES, tree.root]),
    chainsweep: time('chainsweep (3cx)', sweep('small', [])),
    chainsweepAll: time('chainsweep --all-files (3cx)', sweep('small-all', ['--all-files'])),
    clamscan: time('clamscan (3cx hashes only)', [
      'clamscan',
      '-r',
      '--no-summary',
      '-i',
      '--max-filesize=4000M',
      '--max-scansize=4000M',
      '-d',
      join(WORK, 'hashes.hsb'),
      tree.root,
    ]),
  };
  rows.push(
    '| rule set | tool | wall s | vs yara -p | peak RSS MiB |',
    '| --- | --- | ---: | ---: | ---: |',
    ...Object.values(small).map(
      (t) =>
        `| 3CX pack | ${t.tool} | ${t.seconds.toFixed(2)} | ${(t.seconds / small.yara.seconds).toFixed(2)} | ${t.maxRssMiB.toFixed(0)} |`,
    ),
  );
  check.push(
    `| 3CX pack | chainsweep | ${coverage(chainsweepPaths(out('small')), [...pack3cx, ...hashPlanted])} |`,
    `| 3CX pack | yara | ${coverage(yaraPaths(small.yara.stdout), pack3cx)} |`,
    `| 3CX pack | clamscan (hashes) | ${coverage(clamPaths(small.clamscan.stdout), hashPlanted)} |`,
  );

  // Large rule set: 400 generated rule files.
  const ruleFiles = [...byFile.keys()].map((f) => join(rulesDir, f));
  const large = {
    yara: time('yara (400 files)', ['yara', '-r', '-w', '-p', String(THREADS), ...ruleFiles, tree.root]),
    chainsweep: time('chainsweep (400 files)', sweep('large', ['--no-bundled', '--yara', rulesDir])),
    chainsweepAll: time(
      'chainsweep --all-files (400 files)',
      sweep('large-all', ['--no-bundled', '--yara', rulesDir, '--all-files']),
    ),
    clamscan: time('clamscan (400 files + hashes)', [
      'clamscan',
      '-r',
      '--no-summary',
      '-i',
      '--max-filesize=4000M',
      '--max-scansize=4000M',
      '-d',
      rulesDir,
      '-d',
      join(WORK, 'hashes.hsb'),
      tree.root,
    ]),
  };
  rows.push(
    ...Object.values(large).map(
      (t) =>
        `| 400 generated files (${rules.length} rules) | ${t.tool} | ${t.seconds.toFixed(2)} | ${(t.seconds / large.yara.seconds).toFixed(2)} | ${t.maxRssMiB.toFixed(0)} |`,
    ),
  );
  check.push(
    `| 400 generated | chainsweep | ${coverage(chainsweepPaths(out('large')), [...generated, ...hashPlanted])} |`,
    `| 400 generated | yara | ${coverage(yaraPaths(large.yara.stdout), generated)} |`,
    `| 400 generated | clamscan | ${coverage(clamPaths(large.clamscan.stdout), [...generated, ...hashPlanted])} |`,
  );

  // Memory with a 2 GB file in the tree.
  const big = join(WORK, 'big/disk-image.iso');
  bigSparseFile(big, 2 * 1024 ** 3);
  const withBig = time('chainsweep + 2 GB file (3cx)', [
    'node',
    CLI,
    'scan',
    tree.root,
    join(WORK, 'big'),
    '--format',
    'json',
    '--output',
    out('big'),
  ]);

  const report = [
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; tree ${tree.files} files, ${(tree.bytes / 1e9).toFixed(2)} GB, warm page cache; median of ${RUNS} runs after a warm-up.`,
    '',
    ...rows,
    '',
    `Peak RSS with a 2 GiB file added to the tree: ${withBig.maxRssMiB.toFixed(0)} MiB (${withBig.seconds.toFixed(2)} s).`,
    '',
    '| rule set | tool | planted positives found |',
    '| --- | --- | --- |',
    ...check,
    '',
  ].join('\n');
  const inventoryLine = inventoryBench();
  const huntTable = await huntBench();
  writeFileSync(join(WORK, 'results.md'), `${report}\n${inventoryLine}\n${huntTable}`);
  process.stdout.write(`${inventoryLine}\n${huntTable}`);
  process.stdout.write(report);
}

await main();
