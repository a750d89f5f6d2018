import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseMountInfo, parsePseudoDevices, pseudoFilesystemOf } from './mounts.js';

// Lines captured from /proc/self/mountinfo on Debian 12 (a laptop with an NFS home share and an sshfs mount).
const MOUNTINFO = `22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
23 28 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw
24 28 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=8089528k,nr_inodes=2022382,mode=755
28 1 254:1 / / rw,relatime shared:1 - ext4 /dev/mapper/vg-root rw,errors=remount-ro
30 22 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
45 28 0:40 / /tmp rw,nosuid,nodev shared:20 - tmpfs tmpfs rw
101 28 0:52 / /home/shared rw,relatime shared:60 - nfs4 fileserver:/export/home rw,vers=4.2
102 28 0:53 / /mnt/remote\\040box rw,nosuid,nodev,relatime shared:61 - fuse.sshfs user@box:/ rw,user_id=0,group_id=0
103 28 8:17 / /media/usb rw,relatime shared:62 - vfat /dev/sdb1 rw`;

describe('parseMountInfo', () => {
  it('lists pseudo and network mounts, and leaves disks and tmpfs to be swept', () => {
    expect(Object.fromEntries(parseMountInfo(MOUNTINFO))).toEqual({
      '/sys': 'pseudo-filesystem',
      '/proc': 'pseudo-filesystem',
      '/dev': 'pseudo-filesystem',
      '/sys/fs/cgroup': 'pseudo-filesystem',
      '/home/shared': 'network-filesystem',
      '/mnt/remote box': 'network-filesystem',
    });
  });

  it('ignores malformed lines', () => {
    expect(parseMountInfo('garbage\n\n1 2 3')).toEqual(new Map());
  });
});

describe('parsePseudoDevices', () => {
  it('maps the device of each pseudo mount to its filesystem type', () => {
    expect(Object.fromEntries(parsePseudoDevices(MOUNTINFO))).toEqual({
      '0:21': 'sysfs',
      '0:22': 'proc',
      '0:5': 'devtmpfs',
      '0:27': 'cgroup2',
    });
  });

  it('knows the live /proc and /sys for what they are, and not /tmp', () => {
    expect(pseudoFilesystemOf(statSync('/proc').dev)).toBe('proc');
    expect(pseudoFilesystemOf(statSync('/proc/self/status').dev)).toBe('proc');
    expect(pseudoFilesystemOf(statSync('/sys').dev)).toBe('sysfs');
    expect(pseudoFilesystemOf(statSync(tmpdir()).dev)).toBeUndefined();
  });
});
