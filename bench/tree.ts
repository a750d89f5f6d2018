import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Random } from './random.js';
import type { GeneratedRule } from './rules.js';

/** Files the benchmark expects every tool to report, by the tool-neutral reason they should. */
export interface PlantedFile {
  path: string;
  /** Rule names (YARA) that should match. */
  rules: string[];
  /** SHA-256 listed in the hash IOC list, when planted for hash matching. */
  sha256?: string;
}

export interface BenchTree {
  root: string;
  files: number;
  bytes: number;
  planted: PlantedFile[];
}

const MiB = 1024 * 1024;

/**
 * A deterministic tree of ~1.1 GB and ~11k files: node_modules-style small text files, PE-like binaries,
 * documents, a few large media files, and planted positives (the 3CX pack's match fixtures, generated-rule
 * triggers, and files listed by hash). Reuses an existing tree with the same layout version.
 */
export function buildTree(root: string, rules: GeneratedRule[], fixturesDir: string): BenchTree {
  const random = new Random(20230329);
  const planted: PlantedFile[] = [];
  let files = 0;
  let bytes = 0;
  const write = (path: string, content: Buffer | (() => Buffer)) => {
    const full = join(root, path);
    files++;
    if (!existsSync(full)) {
      mkdirSync(dirname(full), { recursive: true });
      const data = typeof content === 'function' ? content() : content;
      const fd = openSync(full, 'w');
      writeSync(fd, data);
      closeSync(fd);
      bytes += data.length;
      return data;
    }
    const data = typeof content === 'function' ? content() : content;
    bytes += data.length;
    return data;
  };

  // node_modules-style: 8000 small JS/JSON/map files.
  for (let i = 0; i < 8000; i++) {
    const pkg = `node_modules/pkg-${i % 400}/lib/${random.word(6)}-${i}.${random.pick(['js', 'js', 'json', 'map', 'd.ts'])}`;
    const size = random.int(400, 16_000);
    write(pkg, () => textBlock(random, size));
  }
  // Documents: 1500 text, PDF-like and office-like files.
  for (let i = 0; i < 1500; i++) {
    const ext = random.pick(['txt', 'pdf', 'docx', 'csv', 'html']);
    const size = random.int(10_000, 160_000);
    write(`Documents/${random.word(5)}/${i}.${ext}`, () =>
      ext === 'txt' || ext === 'csv' || ext === 'html' ? textBlock(random, size) : random.bytes(size),
    );
  }
  // PE-like binaries: 500 executables and DLLs, 64 KiB to 1.5 MiB.
  for (let i = 0; i < 500; i++) {
    const size = random.int(64 * 1024, 1536 * 1024);
    write(`Programs/app-${i % 50}/${random.word(7)}-${i}.${random.pick(['exe', 'dll', 'dll'])}`, () =>
      peLike(random, size, []),
    );
  }
  // Large media: three 150 MiB files.
  for (let i = 0; i < 3; i++) write(`Videos/clip-${i}.mp4`, () => random.bytes(150 * MiB));

  // Planted: every 25th generated rule gets a PE that triggers it.
  rules.forEach((rule, i) => {
    if (i % 25 !== 0) return;
    const path = `Programs/planted/rule-${i}.dll`;
    write(path, () => peLike(new Random(i + 7), 200 * 1024, [rule.trigger]));
    planted.push({ path: join(root, path), rules: [rule.name] });
  });
  // Planted: files listed by SHA-256 (hash-only positives; not executables, so only hashing can find them).
  for (let i = 0; i < 5; i++) {
    const path = `Documents/planted/listed-${i}.bin.txt`;
    const data = write(path, () => textBlock(new Random(1000 + i), 20_000));
    planted.push({
      path: join(root, path),
      rules: [],
      sha256: createHash('sha256').update(data).digest('hex'),
    });
  }
  // Planted: the 3CX pack's crafted positives.
  for (const file of listFiles(fixturesDir)) {
    const path = join('Users/planted-3cx', relative(fixturesDir, file));
    const full = join(root, path);
    if (!existsSync(full)) {
      mkdirSync(dirname(full), { recursive: true });
      copyFileSync(file, full);
    }
    files++;
    planted.push({ path: full, rules: ['3cx'] });
  }
  return { root, files, bytes, planted };
}

/** A 2 GB sparse file beside the tree (for the memory check). */
export function bigSparseFile(path: string, size: number): void {
  if (existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  writeSync(fd, Buffer.from([1]), 0, 1, size - 1);
  closeSync(fd);
}

function textBlock(random: Random, size: number): Buffer {
  const words: string[] = [];
  let length = 0;
  while (length < size) {
    const w = random.word(random.int(2, 10));
    words.push(w);
    length += w.length + 1;
  }
  return Buffer.from(words.join(' ').slice(0, size));
}

function peLike(random: Random, size: number, plants: Buffer[]): Buffer {
  const data = random.bytes(size);
  data.write('MZ', 0, 'latin1');
  data.writeUInt32LE(0x80, 0x3c);
  data.write('PE\0\0', 0x80, 'latin1');
  // Code-like runs and import-table strings, as in real binaries.
  for (let at = 0x400; at < size - 64; at += random.int(2000, 9000)) {
    data.write(
      random.pick(['kernel32.dll', 'GetProcAddress', 'LoadLibraryW', 'VirtualAlloc', '.text', 'ntdll.dll']),
      at,
      'latin1',
    );
  }
  let at = 0x1000;
  for (const plant of plants) {
    plant.copy(data, at);
    at += plant.length + 64;
  }
  return data;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}
