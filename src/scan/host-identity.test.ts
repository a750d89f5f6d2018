import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostInfoSchema } from '../core/report.js';
import { buildHive } from '../testing/regf-builder.js';
import { tempTree } from '../testing/temp-tree.js';
import { cleanAddresses, hostnameDigest, parseIoregPlatformUuid, readHostIdentity } from './host-identity.js';

/** The first 20 bytes of an ELF executable for `machine` (little-endian). */
function elfHeader(machine: number): Buffer {
  const head = Buffer.alloc(64);
  head.write('\x7fELF', 0, 'latin1');
  head[4] = 2;
  head[5] = 1;
  head.writeUInt16LE(machine, 18);
  return head;
}

const plist = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">${body}</plist>\n`;

describe('readHostIdentity from a Linux image', () => {
  it('reads machine-id, hostname, version and architecture from the image, never the live host', async () => {
    const image = tempTree({
      'etc/machine-id': '0123456789ABCDEF0123456789ABCDEF\n',
      'etc/hostname': '# set by the installer\nweb-01\n',
      'etc/os-release': 'ID=debian\nVERSION_ID="12"\n',
      'usr/bin/env': elfHeader(0xb7),
    });
    const host = await readHostIdentity({ imageRoot: image });
    expect(host).toEqual({
      hostId: '0123456789abcdef0123456789abcdef',
      hostIdSource: 'linux-machine-id',
      hostname: 'web-01',
      os: 'linux',
      osRelease: '12',
      arch: 'arm64',
      addresses: [],
    });
    expect(HostInfoSchema.parse(host)).toEqual(host);
  });

  it('falls back to the D-Bus machine-id, and says why', async () => {
    const image = tempTree({
      'etc/os-release': 'ID=alpine\n',
      'etc/machine-id': '',
      'var/lib/dbus/machine-id': 'fedcba9876543210fedcba9876543210\n',
    });
    const host = await readHostIdentity({ imageRoot: image });
    expect(host).toMatchObject({
      hostId: 'fedcba9876543210fedcba9876543210',
      hostIdSource: 'linux-dbus-machine-id',
      hostIdProblem: '/etc/machine-id: empty',
      hostname: 'unknown',
      osRelease: 'unknown',
      arch: 'unknown',
    });
  });

  it('does not follow an image symlink out of the image', async () => {
    const outside = tempTree({ 'machine-id': 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n', hostname: 'live-box\n' });
    const image = tempTree({ 'etc/os-release': 'ID=debian\n' });
    symlinkSync(join(outside, 'machine-id'), join(image, 'etc/machine-id'));
    symlinkSync(join(outside, 'hostname'), join(image, 'etc/hostname'));
    const host = await readHostIdentity({ imageRoot: image });
    expect(host.hostId).not.toBe('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
    expect(host.hostname).toBe('unknown');
    expect(host.hostIdSource).toBe('hostname-digest');
  });

  it('records a huge, malformed or placeholder id and uses a digest of the hostname, or the kept id', async () => {
    for (const id of [
      'x'.repeat(10_000_000),
      'not-an-id; DROP TABLE hosts',
      '0'.repeat(32),
      'uninitialized\n',
    ]) {
      const image = tempTree({
        'etc/os-release': 'ID=debian\n',
        'etc/machine-id': id,
        'etc/hostname': `db-02\u0007${'z'.repeat(300)}\n`,
      });
      const host = await readHostIdentity({ imageRoot: image });
      expect(host.hostname).toBe(`db-02${'z'.repeat(250)}`);
      expect(host.hostIdSource).toBe('hostname-digest');
      expect(host.hostId).toBe(hostnameDigest('linux', host.hostname));
      expect(host.hostIdProblem).toMatch(/^\/etc\/machine-id: .*; \/var\/lib\/dbus\/machine-id: not found$/);
      expect(host.hostIdProblem).not.toContain('DROP');
      expect(HostInfoSchema.parse(host)).toEqual(host);
      expect(new TextEncoder().encode(host.hostname).length).toBeLessThan(1024);
      const kept = await readHostIdentity({
        imageRoot: image,
        keptHostId: '11111111-2222-4333-8444-555555555555',
      });
      expect(kept).toMatchObject({
        hostId: '11111111-2222-4333-8444-555555555555',
        hostIdSource: 'agent-state',
      });
    }
  });

  it('strips control characters from the hostname and version an image claims', async () => {
    const image = tempTree({
      'etc/os-release': 'ID=debian\nVERSION_ID="12\u0000\u001b[31m"\n',
      'etc/hostname': 'evil\u001b[2J\rname\u007f\u0000\n',
    });
    const host = await readHostIdentity({ imageRoot: image });
    expect(host).toMatchObject({ hostname: 'evil[2Jname', osRelease: '12[31m' });
    expect(HostInfoSchema.parse(host)).toEqual(host);
  });

  it('never cuts a hostname inside a surrogate pair', async () => {
    const image = tempTree({
      'etc/os-release': 'ID=debian\n',
      'etc/hostname': `${'a'.repeat(254)}\u{1F600}b\n`,
    });
    expect((await readHostIdentity({ imageRoot: image })).hostname).toBe('a'.repeat(254));
  });

  it('gives an image of no known system an unknown identity rather than the live one', async () => {
    const host = await readHostIdentity({ imageRoot: tempTree({ 'readme.txt': 'hi' }) });
    expect(host).toMatchObject({ os: 'unknown', hostname: 'unknown', hostIdSource: 'hostname-digest' });
    expect(host.hostIdProblem).toBe('no host id is known for unknown systems');
  });
});

describe('readHostIdentity from a Windows image', () => {
  const software = (guid: string | Buffer) =>
    buildHive({
      name: 'ROOT',
      subkeys: [
        {
          name: 'Microsoft',
          subkeys: [
            { name: 'Cryptography', values: { MachineGuid: guid } },
            {
              name: 'Windows NT',
              subkeys: [
                {
                  name: 'CurrentVersion',
                  values: {
                    CurrentMajorVersionNumber: 10,
                    CurrentMinorVersionNumber: 0,
                    CurrentBuildNumber: '19045',
                  },
                },
              ],
            },
          ],
        },
      ],
    });
  const system = buildHive({
    name: 'ROOT',
    subkeys: [
      { name: 'Select', values: { Current: 2 } },
      {
        name: 'ControlSet001',
        subkeys: [
          {
            name: 'Control',
            subkeys: [
              {
                name: 'ComputerName',
                subkeys: [{ name: 'ComputerName', values: { ComputerName: 'OLD-NAME' } }],
              },
            ],
          },
        ],
      },
      {
        name: 'ControlSet002',
        subkeys: [
          {
            name: 'Control',
            subkeys: [
              {
                name: 'ComputerName',
                subkeys: [{ name: 'ComputerName', values: { ComputerName: 'DESK-0042' } }],
              },
              {
                name: 'Session Manager',
                subkeys: [{ name: 'Environment', values: { PROCESSOR_ARCHITECTURE: 'AMD64' } }],
              },
            ],
          },
          {
            name: 'Services',
            subkeys: [
              {
                name: 'Tcpip',
                subkeys: [
                  {
                    name: 'Parameters',
                    values: { Hostname: 'desk-0042' },
                    subkeys: [
                      {
                        name: 'Interfaces',
                        subkeys: [
                          { name: '{a}', values: { DhcpIPAddress: '10.20.30.42' } },
                          { name: '{b}', values: { DhcpIPAddress: '0.0.0.0', IPAddress: '192.168.7.9' } },
                          { name: '{c}', values: { DhcpIPAddress: '169.254.3.3; rm -rf /' } },
                        ],
                      },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
  });

  it("reads MachineGuid, the current control set's names, version, architecture and addresses from the hives", async () => {
    const image = tempTree({
      'Windows/System32/config/SOFTWARE': software('{6F0D4C3E-8A1B-4C2D-9E3F-0A1B2C3D4E5F}'),
      'Windows/System32/config/SYSTEM': system,
    });
    expect(await readHostIdentity({ imageRoot: image })).toEqual({
      hostId: '6f0d4c3e-8a1b-4c2d-9e3f-0a1b2c3d4e5f',
      hostIdSource: 'windows-machine-guid',
      hostname: 'desk-0042',
      os: 'win32',
      osRelease: '10.0.19045',
      arch: 'x64',
      addresses: ['10.20.30.42', '192.168.7.9'],
    });
  });

  it('reads a version with no minor number as .0', async () => {
    const hive = buildHive({
      name: 'ROOT',
      subkeys: [
        {
          name: 'Microsoft',
          subkeys: [
            {
              name: 'Windows NT',
              subkeys: [
                {
                  name: 'CurrentVersion',
                  values: { CurrentMajorVersionNumber: 10, CurrentBuildNumber: '22631' },
                },
              ],
            },
          ],
        },
      ],
    });
    const image = tempTree({ 'Windows/System32/config/SOFTWARE': hive });
    expect((await readHostIdentity({ imageRoot: image })).osRelease).toBe('10.0.22631');
  });

  it('records a MachineGuid that is too long or not a string, and a hive that is not a hive', async () => {
    for (const guid of ['{'.repeat(5000), Buffer.from('6f0d4c3e-8a1b-4c2d-9e3f-0a1b2c3d4e5f')]) {
      const image = tempTree({
        'Windows/System32/config/SOFTWARE': software(guid),
        'Windows/System32/config/SYSTEM': 'not a hive',
      });
      const host = await readHostIdentity({ imageRoot: image });
      expect(host).toMatchObject({ hostIdSource: 'hostname-digest', hostname: 'unknown', os: 'win32' });
      expect(host.hostIdProblem).toBe('SOFTWARE\\Microsoft\\Cryptography MachineGuid: not found');
    }
  });
});

describe('readHostIdentity from a macOS image', () => {
  it('takes the hardware UUID that names most ByHost files, the host name and the version', async () => {
    const main = '564D1234-ABCD-4EF0-9123-456789ABCDEF';
    const migrated = '00112233-4455-4677-8899-AABBCCDDEEFF';
    const image = tempTree({
      'System/Library/CoreServices/SystemVersion.plist': plist(
        '<dict><key>ProductVersion</key><string>14.1</string></dict>',
      ),
      'Library/Preferences/SystemConfiguration/preferences.plist': plist(
        '<dict><key>System</key><dict><key>Network</key><dict><key>HostNames</key><dict><key>LocalHostName</key><string>alices-mac</string></dict></dict><key>System</key><dict><key>ComputerName</key><string>Alice’s Mac</string></dict></dict></dict>',
      ),
      [`Users/alice/Library/Preferences/ByHost/com.apple.screensaver.${main}.plist`]: plist('<dict/>'),
      [`Users/alice/Library/Preferences/ByHost/com.apple.loginwindow.${main}.plist`]: plist('<dict/>'),
      [`Users/bob/Library/Preferences/ByHost/com.apple.screensaver.${migrated}.plist`]: plist('<dict/>'),
      'Users/bob/Library/Preferences/ByHost/com.apple.notes.not-a-uuid.plist': plist('<dict/>'),
    });
    expect(await readHostIdentity({ imageRoot: image })).toEqual({
      hostId: main.toLowerCase(),
      hostIdSource: 'macos-byhost-preferences',
      hostname: 'alices-mac.local',
      os: 'darwin',
      osRelease: '14.1',
      arch: 'unknown',
      addresses: [],
    });
  });

  it('says so when no ByHost file names the hardware', async () => {
    const image = tempTree({
      'System/Library/CoreServices/SystemVersion.plist': plist(
        '<dict><key>ProductVersion</key><string>13.6</string></dict>',
      ),
    });
    expect(await readHostIdentity({ imageRoot: image })).toMatchObject({
      hostIdSource: 'hostname-digest',
      hostIdProblem: 'ByHost preference file names: not found',
    });
  });

  it('reads IOPlatformUUID from captured ioreg output', () => {
    const output = [
      '+-o MacBookPro18,3  <class IOPlatformExpertDevice, id 0x100000210, registered, matched, active, busy 0 (70 ms), retain 42>',
      '    {',
      '      "IOPlatformSerialNumber" = "C02XXXXXXXXX"',
      '      "IOPlatformUUID" = "8F3B1E0A-2C4D-4E6F-8A9B-0C1D2E3F4A5B"',
      '      "model" = <"MacBookPro18,3">',
      '    }',
    ].join('\n');
    expect(parseIoregPlatformUuid(output)).toBe('8F3B1E0A-2C4D-4E6F-8A9B-0C1D2E3F4A5B');
    expect(parseIoregPlatformUuid('"IOPlatformUUID" = <00>')).toBeUndefined();
  });
});

describe('the live host', () => {
  it('has a schema-valid identity with the same id on every read', async () => {
    const first = await readHostIdentity();
    expect(HostInfoSchema.parse(first)).toEqual(first);
    expect((await readHostIdentity()).hostId).toBe(first.hostId);
    expect(first.addresses).not.toContain('127.0.0.1');
  });

  it('keeps only addresses that are real, not loopback or link-local, sorted and unique', () => {
    expect(
      cleanAddresses([
        '10.0.0.2',
        '127.0.0.1',
        '::1',
        'fe80::1%eth0',
        '2001:DB8::1',
        '10.0.0.2',
        'x',
        '0.0.0.0',
        '169.254.1.1',
        'fd00::2',
      ]),
    ).toEqual(['10.0.0.2', '2001:db8::1', 'fd00::2']);
    expect(cleanAddresses(Array.from({ length: 500 }, (_, i) => `10.1.${i >> 8}.${i & 255}`))).toHaveLength(
      64,
    );
  });
});
