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
  try {
    return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return new Map();
  }
}
