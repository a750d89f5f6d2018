/** @module The identity of the machine a report describes: the live host, or the system in a mounted image. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, opendirSync, openSync, readSync } from 'node:fs';
import { isIP } from 'node:net';
import { arch, hostname, networkInterfaces, platform, release } from 'node:os';
import { promisify } from 'node:util';
import { findPath, subdirectories } from '../collectors/apps/fs-paths.js';
import { withFileSource } from '../collectors/parsers/byte-source.js';
import { type PlistValue, parsePlist } from '../collectors/parsers/plist.js';
import { parseRegQuery } from '../collectors/parsers/reg-query.js';
import { Hive, type HiveKey } from '../collectors/parsers/regf.js';
import type { OsFamily } from '../core/app.js';
import { type HostIdSource, normaliseHostId } from '../core/host-id.js';
import { type HostInfo, MAX_HOST_ADDRESSES } from '../core/report.js';
import { detectOs } from './detect-os.js';

export interface HostIdentityOptions {
  /** Root of a mounted image: everything is read from it, nothing from the running machine. */
  imageRoot?: string;
  /** An id kept by the caller (the agent's state folder), used when the machine has no usable id of its own. */
  keptHostId?: string;
}

/** A host id candidate: where it was looked for, and what was found there. */
interface IdAttempt {
  source: HostIdSource;
  where: string;
  raw: string | undefined;
}

const NODE_OS: Record<OsFamily, string> = {
  windows: 'win32',
  macos: 'darwin',
  linux: 'linux',
  unknown: 'unknown',
};
const MAX_BYHOST_USERS = 1000;
const MAX_DIR_ENTRIES = 10_000;
const MAX_INTERFACES = 256;

/**
 * Who the report is about. Never throws: what cannot be read is `unknown`, and a missing or malformed id is
 * recorded in `hostIdProblem` with an id derived from the OS and hostname (or the caller's kept id) instead.
 */
export async function readHostIdentity(options: HostIdentityOptions = {}): Promise<HostInfo> {
  const facts = options.imageRoot === undefined ? await liveFacts() : imageFacts(options.imageRoot);
  return settleIdentity(facts, options.keptHostId);
}

/** What was read from a machine before its id is chosen. */
interface HostFacts {
  family: OsFamily;
  hostname: string | undefined;
  os: string;
  osRelease: string | undefined;
  arch: string | undefined;
  addresses: string[];
  ids: IdAttempt[];
}

function settleIdentity(facts: HostFacts, keptHostId: string | undefined): HostInfo {
  const name = cleanText(facts.hostname, 255) || 'unknown';
  const problems: string[] = [];
  let chosen: { id: string; source: HostIdSource } | undefined;
  for (const attempt of facts.ids) {
    if (attempt.raw === undefined) {
      problems.push(`${attempt.where}: not found`);
      continue;
    }
    const reading = normaliseHostId(attempt.raw);
    if (reading.ok) {
      chosen = { id: reading.id, source: attempt.source };
      break;
    }
    problems.push(`${attempt.where}: ${reading.problem}`);
  }
  const kept = keptHostId === undefined ? undefined : normaliseHostId(keptHostId);
  if (!chosen && kept?.ok) chosen = { id: kept.id, source: 'agent-state' };
  if (!chosen) chosen = { id: hostnameDigest(facts.family, name), source: 'hostname-digest' };
  if (facts.ids.length === 0) problems.push(`no host id is known for ${facts.family} systems`);
  const problem = chosen.source === facts.ids[0]?.source ? undefined : problems.join('; ');
  return {
    hostId: chosen.id,
    hostIdSource: chosen.source,
    ...(problem ? { hostIdProblem: problem.slice(0, 500) } : {}),
    hostname: name,
    os: facts.os,
    osRelease: cleanText(facts.osRelease, 64) || 'unknown',
    arch: cleanText(facts.arch, 32) || 'unknown',
    addresses: cleanAddresses(facts.addresses),
  };
}

/** 32 hex digits of SHA-256 over the OS family and the lowercased hostname: stable, but shared by namesakes. */
export function hostnameDigest(family: OsFamily, name: string): string {
  return createHash('sha256')
    .update(`chainsweep-host\0${family}\0${name.toLowerCase()}`)
    .digest('hex')
    .slice(0, 32);
}

async function liveFacts(): Promise<HostFacts> {
  const family: OsFamily =
    process.platform === 'win32'
      ? 'windows'
      : process.platform === 'darwin'
        ? 'macos'
        : process.platform === 'linux'
          ? 'linux'
          : 'unknown';
  const ids: IdAttempt[] = [];
  if (family === 'linux') {
    for (const [source, path] of LINUX_ID_FILES)
      ids.push({ source, where: `/${path}`, raw: smallText(`/${path}`, { follow: true }) });
  } else if (family === 'windows') {
    ids.push({ source: 'windows-machine-guid', where: MACHINE_GUID_WHERE, raw: await liveMachineGuid() });
  } else if (family === 'macos') {
    ids.push({ source: 'macos-platform-uuid', where: 'ioreg IOPlatformUUID', raw: await livePlatformUuid() });
  }
  return {
    family,
    hostname: hostname(),
    os: platform(),
    osRelease: release(),
    arch: arch(),
    addresses: liveAddresses(),
    ids,
  };
}

function imageFacts(root: string): HostFacts {
  const family = detectOs(root);
  const base = { family, os: NODE_OS[family] };
  if (family === 'windows') return { ...base, ...windowsImageFacts(root) };
  if (family === 'macos') return { ...base, ...macosImageFacts(root) };
  if (family === 'linux') return { ...base, ...linuxImageFacts(root) };
  return { ...base, hostname: undefined, osRelease: undefined, arch: undefined, addresses: [], ids: [] };
}

// Linux ------------------------------------------------------------------------------------------------------

const LINUX_ID_FILES: [HostIdSource, string][] = [
  ['linux-machine-id', 'etc/machine-id'],
  ['linux-dbus-machine-id', 'var/lib/dbus/machine-id'],
];

const ELF_MACHINES: Record<number, string> = {
  3: 'ia32',
  8: 'mips',
  20: 'ppc',
  21: 'ppc64',
  22: 's390x',
  40: 'arm',
  62: 'x64',
  183: 'arm64',
  243: 'riscv64',
  258: 'loong64',
};

function linuxImageFacts(root: string): Omit<HostFacts, 'family' | 'os'> {
  const inImage = (relative: string) => {
    const path = findPath(root, relative);
    return path === undefined ? undefined : smallText(path);
  };
  const hostnameFile = inImage('etc/hostname') ?? inImage('etc/HOSTNAME');
  const osRelease = inImage('etc/os-release') ?? inImage('usr/lib/os-release');
  return {
    hostname: hostnameFile
      ?.split('\n')
      .map((line) => line.trim())
      .find((line) => line && !line.startsWith('#')),
    osRelease: osRelease === undefined ? undefined : osReleaseField(osRelease, 'VERSION_ID'),
    arch: elfArch(findPath(root, 'usr/bin/env')),
    addresses: [],
    ids: LINUX_ID_FILES.map(([source, path]) => ({ source, where: `/${path}`, raw: inImage(path) })),
  };
}

/** A field of an os-release file, unquoted. */
function osReleaseField(text: string, field: string): string | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${field}=`));
  return line?.slice(field.length + 1).replace(/^["']|["']$/g, '');
}

/** The architecture an ELF executable was built for, from its header. */
function elfArch(path: string | undefined): string | undefined {
  const head = path === undefined ? undefined : smallBytes(path, 20);
  if (!head || head.length < 20 || head.toString('latin1', 0, 4) !== '\x7fELF') return undefined;
  const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
  return ELF_MACHINES[machine];
}

// Windows ----------------------------------------------------------------------------------------------------

const MACHINE_GUID_WHERE = 'SOFTWARE\\Microsoft\\Cryptography MachineGuid';
const PROCESSOR_ARCHITECTURES: Record<string, string> = {
  amd64: 'x64',
  arm64: 'arm64',
  x86: 'ia32',
  ia64: 'ia64',
};

function windowsImageFacts(root: string): Omit<HostFacts, 'family' | 'os'> {
  const software = withHive(findPath(root, 'Windows/System32/config/SOFTWARE'), (hive) => {
    const current = hive.key('Microsoft\\Windows NT\\CurrentVersion');
    const major = current && boundedText(current, 'CurrentMajorVersionNumber');
    const version = major
      ? `${major}.${(current && boundedText(current, 'CurrentMinorVersionNumber')) ?? '0'}`
      : current && boundedText(current, 'CurrentVersion');
    const build = current && boundedText(current, 'CurrentBuildNumber');
    const guidKey = hive.key('Microsoft\\Cryptography');
    return {
      machineGuid: guidKey && boundedText(guidKey, 'MachineGuid'),
      osRelease: version && build ? `${version}.${build}` : version,
    };
  });
  const system = withHive(findPath(root, 'Windows/System32/config/SYSTEM'), (hive) => {
    const selected = Number(hive.key('Select') && boundedText(hive.key('Select') as HiveKey, 'Current'));
    const set = hive.key(
      `ControlSet${String(Number.isInteger(selected) && selected > 0 && selected < 1000 ? selected : 1).padStart(3, '0')}`,
    );
    const tcpip = set && hive.key(`${set.name}\\Services\\Tcpip\\Parameters`);
    const computerName = set && hive.key(`${set.name}\\Control\\ComputerName\\ComputerName`);
    const environment = set && hive.key(`${set.name}\\Control\\Session Manager\\Environment`);
    const processor = environment && boundedText(environment, 'PROCESSOR_ARCHITECTURE');
    const addresses: string[] = [];
    const interfaces = tcpip?.subkey('Interfaces')?.subkeys() ?? [];
    for (const entry of interfaces.slice(0, MAX_INTERFACES)) {
      for (const name of ['DhcpIPAddress', 'IPAddress']) addresses.push(...multiText(entry, name));
    }
    return {
      hostname:
        (tcpip && boundedText(tcpip, 'Hostname')) ||
        (computerName && boundedText(computerName, 'ComputerName')),
      arch: processor === undefined ? undefined : PROCESSOR_ARCHITECTURES[processor.toLowerCase()],
      addresses,
    };
  });
  return {
    hostname: system?.hostname,
    osRelease: software?.osRelease,
    arch: system?.arch,
    addresses: system?.addresses ?? [],
    ids: [{ source: 'windows-machine-guid', where: MACHINE_GUID_WHERE, raw: software?.machineGuid }],
  };
}

/** `use(hive)` on the hive file at `path`; undefined when it is absent or unreadable. */
function withHive<T>(path: string | undefined, use: (hive: Hive) => T): T | undefined {
  if (path === undefined) return undefined;
  try {
    return withFileSource(path, (source) => use(Hive.open(source)));
  } catch {
    return undefined;
  }
}

/** A string or DWORD value of at most 1 KiB of data, as text. */
function boundedText(key: HiveKey, name: string): string | undefined {
  const value = key.value(name);
  return value && value.data.length <= 1024 ? key.text(name) : undefined;
}

/** The strings of a REG_MULTI_SZ or REG_SZ value of at most 64 KiB. */
function multiText(key: HiveKey, name: string): string[] {
  const value = key.value(name);
  if (!value || value.data.length > 65_536 || (value.type !== 1 && value.type !== 7)) return [];
  return value.data.toString('utf16le').split('\0').filter(Boolean).slice(0, MAX_HOST_ADDRESSES);
}

async function liveMachineGuid(): Promise<string | undefined> {
  const stdout = await runTool('reg', [
    'query',
    'HKLM\\SOFTWARE\\Microsoft\\Cryptography',
    '/v',
    'MachineGuid',
    '/reg:64',
  ]);
  return stdout === undefined ? undefined : parseRegQuery(stdout)[0]?.values.MachineGuid?.data;
}

// macOS ------------------------------------------------------------------------------------------------------

const BYHOST_UUID = /\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.plist$/i;

function macosImageFacts(root: string): Omit<HostFacts, 'family' | 'os'> {
  const preferences = plistIn(root, 'Library/Preferences/SystemConfiguration/preferences.plist');
  const system = field(field(preferences, 'System'), 'System');
  const localName = text(field(field(field(preferences, 'System'), 'Network'), 'HostNames'), 'LocalHostName');
  const version = plistIn(root, 'System/Library/CoreServices/SystemVersion.plist');
  const byHost = byHostUuid(root);
  return {
    hostname: text(system, 'HostName') ?? (localName ? `${localName}.local` : text(system, 'ComputerName')),
    osRelease: text(version, 'ProductVersion'),
    arch: undefined,
    addresses: [],
    ids: [{ source: 'macos-byhost-preferences', where: 'ByHost preference file names', raw: byHost }],
  };
}

/**
 * The hardware UUID (IOPlatformUUID) that names the image's `ByHost` preference files, the most common one when
 * accounts migrated from other Macs bring files named for those.
 */
function byHostUuid(root: string): string | undefined {
  const folders = [
    findPath(root, 'private/var/root/Library/Preferences/ByHost'),
    findPath(root, 'Library/Preferences/ByHost'),
  ];
  const users = findPath(root, 'Users');
  for (const user of users ? subdirectories(users).slice(0, MAX_BYHOST_USERS) : [])
    folders.push(findPath(user, 'Library/Preferences/ByHost'));
  const counts = new Map<string, number>();
  for (const folder of folders) {
    for (const name of folder ? boundedNames(folder) : []) {
      const uuid = BYHOST_UUID.exec(name)?.[1]?.toLowerCase();
      if (uuid) counts.set(uuid, (counts.get(uuid) ?? 0) + 1);
    }
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

/** The first MAX_DIR_ENTRIES names in a folder. */
function boundedNames(folder: string): string[] {
  const names: string[] = [];
  try {
    const dir = opendirSync(folder);
    try {
      for (let entry = dir.readSync(); entry && names.length < MAX_DIR_ENTRIES; entry = dir.readSync())
        if (entry.isFile()) names.push(entry.name);
    } finally {
      dir.closeSync();
    }
  } catch {
    // an unreadable folder holds no names
  }
  return names;
}

function plistIn(root: string, relative: string): PlistValue | undefined {
  const path = findPath(root, relative);
  const bytes = path === undefined ? undefined : smallBytes(path, 1 << 20);
  if (!bytes) return undefined;
  try {
    return parsePlist(bytes);
  } catch {
    return undefined;
  }
}

function field(value: PlistValue | undefined, key: string): PlistValue | undefined {
  return value &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !Buffer.isBuffer(value)
    ? (value as Record<string, PlistValue>)[key]
    : undefined;
}

function text(value: PlistValue | undefined, key: string): string | undefined {
  const found = field(value, key);
  return typeof found === 'string' ? found : undefined;
}

/** The IOPlatformUUID in `ioreg -rd1 -c IOPlatformExpertDevice` output. */
export function parseIoregPlatformUuid(output: string): string | undefined {
  return /"IOPlatformUUID" = "([^"\n]{0,200})"/.exec(output)?.[1];
}

async function livePlatformUuid(): Promise<string | undefined> {
  const stdout = await runTool('ioreg', ['-rd1', '-c', 'IOPlatformExpertDevice']);
  return stdout === undefined ? undefined : parseIoregPlatformUuid(stdout);
}

// Shared -----------------------------------------------------------------------------------------------------

async function runTool(command: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)(command, args, {
      timeout: 10_000,
      maxBuffer: 1 << 20,
      windowsHide: true,
    });
    return stdout;
  } catch {
    return undefined;
  }
}

/** The live host's addresses, from its interfaces. */
function liveAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) =>
    (list ?? []).filter((i) => !i.internal).map((i) => i.address),
  );
}

/** Real, routable-or-private IP addresses only (no loopback, link-local or unspecified), unique, sorted, bounded. */
export function cleanAddresses(addresses: readonly string[]): string[] {
  const kept = new Set<string>();
  for (const raw of addresses) {
    const address = raw.trim().replace(/%.*$/, '').toLowerCase();
    const family = address.length <= 64 ? isIP(address) : 0;
    if (family === 0) continue;
    if (family === 4 && /^(127\.|0\.|169\.254\.)/.test(address)) continue;
    if (family === 6 && (address === '::' || address === '::1' || /^fe[89ab]/.test(address))) continue;
    kept.add(address);
  }
  return [...kept].sort().slice(0, MAX_HOST_ADDRESSES);
}

/** Text with control characters removed, trimmed and cut to `max` characters (never inside a surrogate pair). */
function cleanText(value: string | undefined, max: number): string {
  return (value ?? '')
    .replace(/\p{Cc}/gu, '')
    .trim()
    .slice(0, max)
    .replace(/[\uD800-\uDBFF]$/, '');
}

/** The start of a small regular file as UTF-8 text (at most 4 KiB). */
function smallText(path: string, options: { follow?: boolean } = {}): string | undefined {
  return smallBytes(path, 4096, options)?.toString('utf8');
}

/**
 * Up to `max` bytes from the start of a regular file, opened without following a final link (unless `follow`)
 * and without blocking on a FIFO; undefined when it is absent, not a regular file or unreadable.
 */
function smallBytes(path: string, max: number, options: { follow?: boolean } = {}): Buffer | undefined {
  const flags =
    constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (options.follow ? 0 : (constants.O_NOFOLLOW ?? 0));
  let fd: number;
  try {
    fd = openSync(path, flags);
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    const buffer = Buffer.alloc(max);
    let done = 0;
    for (let n = 1; n > 0 && done < max; done += n) n = readSync(fd, buffer, done, max - done, done);
    return buffer.subarray(0, done);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
