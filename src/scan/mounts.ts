import { readFileSync } from 'node:fs';

/** Filesystems that hold no files worth sweeping (kernel and virtual views). */
const PSEUDO = new Set([
  'proc',
  'sysfs',
  'devtmpfs',
  'devpts',
  'cgroup',
  'cgroup2',
  'securityfs',
  'debugfs',
  'tracefs',
  'pstore',
  'bpf',
  'configfs',
  'fusectl',
  'mqueue',
  'hugetlbfs',
  'autofs',
  'binfmt_misc',
  'efivarfs',
  'rpc_pipefs',
  'nsfs',
  'selinuxfs',
]);
/** Filesystems served by other machines: sweep them on the machine that owns them. */
const NETWORK = new Set([
  'nfs',
  'nfs4',
  'cifs',
  'smb3',
  'smbfs',
  'ncpfs',
  'afs',
  'ceph',
  'glusterfs',
  '9p',
  'davfs',
  'fuse.sshfs',
  'fuse.s3fs',
  'fuse.rclone',
  'fuse.gcsfuse',
  'lustre',
  'beegfs',
  'gpfs',
]);

/** Mount points to leave alone, and why. */
export type MountSkips = ReadonlyMap<string, 'pseudo-filesystem' | 'network-filesystem'>;

/** Parses /proc/self/mountinfo text: each pseudo or network mount point with the reason to skip it. */
export function parseMountInfo(text: string): Map<string, 'pseudo-filesystem' | 'network-filesystem'> {
  const skips = new Map<string, 'pseudo-filesystem' | 'network-filesystem'>();
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const mountPoint = line.slice(0, dash).split(' ')[4];
    const fsType = line.slice(dash + 3).split(' ')[0];
    if (!mountPoint || !fsType) continue;
    const path = mountPoint.replace(/\\([0-7]{3})/g, (_, octal: string) =>
      String.fromCharCode(Number.parseInt(octal, 8)),
    );
    if (PSEUDO.has(fsType)) skips.set(path, 'pseudo-filesystem');
    else if (NETWORK.has(fsType) || NETWORK.has(fsType.replace(/^fuse\./, '')))
      skips.set(path, 'network-filesystem');
  }
  return skips;
}

/** The live host's pseudo and network mounts (Linux); empty where /proc is not there. */
export function liveMountSkips(): MountSkips {
  return parseMountInfo(liveMountInfo());
}

/** Parses /proc/self/mountinfo text: the pseudo filesystem type of each device (`major:minor`) that is one. */
export function parsePseudoDevices(text: string): Map<string, string> {
  const devices = new Map<string, string>();
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    const device = line.slice(0, dash).split(' ')[2];
    const fsType = line.slice(dash + 3).split(' ')[0];
    if (dash >= 0 && device && fsType && PSEUDO.has(fsType)) devices.set(device, fsType);
  }
  return devices;
}

/** The pseudo filesystem (`proc`, `sysfs`, ...) that holds a file of device `dev` (its st_dev), if any (Linux). */
export function pseudoFilesystemOf(dev: number): string | undefined {
  // glibc's dev_t: minor in bits 0-7 and 20-43, major in bits 8-19 and 44-63.
  const low = dev % 2 ** 32;
  const high = Math.floor(dev / 2 ** 32);
  const major = ((low >>> 8) & 0xfff) | ((high & 0xfffff000) >>> 0);
  const minor = (low & 0xff) | ((((low >>> 12) | (high << 20)) & 0xffffff00) >>> 0);
  return parsePseudoDevices(liveMountInfo()).get(`${major}:${minor}`);
}

function liveMountInfo(): string {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return '';
  }
}
