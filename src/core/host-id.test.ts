import { describe, expect, it } from 'vitest';
import { findingOnHost, fingerprint, hostFingerprint } from './finding.js';
import { HostIdSchema, normaliseHostId } from './host-id.js';

describe('normaliseHostId', () => {
  it('lowercases GUIDs, UUIDs and 32 hex digits, dropping whitespace and braces', () => {
    expect(normaliseHostId(' {6F0D4C3E-8A1B-4C2D-9E3F-0A1B2C3D4E5F}\r\n')).toEqual({
      ok: true,
      id: '6f0d4c3e-8a1b-4c2d-9e3f-0a1b2c3d4e5f',
    });
    expect(normaliseHostId('0123456789ABCDEF0123456789abcdef\n')).toEqual({
      ok: true,
      id: '0123456789abcdef0123456789abcdef',
    });
  });

  it('refuses what is too long, empty, of another shape or a placeholder, without echoing it', () => {
    const refused = [
      'a'.repeat(129),
      '',
      '  ',
      'uninitialized',
      '6f0d4c3e8a1b4c2d9e3f0a1b2c3d4e5',
      '{0123456789abcdef0123456789abcdef',
      '00000000-0000-0000-0000-000000000000',
      'F'.repeat(32),
      '6f0d4c3e-8a1b-4c2d-9e3f-0a1b2c3d4e5f\u0000x',
    ];
    for (const raw of refused) {
      const reading = normaliseHostId(raw);
      expect(reading.ok, raw).toBe(false);
      if (!reading.ok) expect(reading.problem).not.toContain('uninitialized');
    }
  });

  it('is what the schema accepts, and nothing else', () => {
    expect(HostIdSchema.safeParse('6f0d4c3e-8a1b-4c2d-9e3f-0a1b2c3d4e5f').success).toBe(true);
    expect(HostIdSchema.safeParse('6F0D4C3E-8A1B-4C2D-9E3F-0A1B2C3D4E5F').success).toBe(false);
    expect(HostIdSchema.safeParse('{6f0d4c3e-8a1b-4c2d-9e3f-0a1b2c3d4e5f}').success).toBe(false);
  });
});

describe('a finding on a host', () => {
  it('has a fingerprint that differs across hosts and is stable on one', () => {
    const subject = fingerprint('3cx-2023', 'sha256-1', 'C:\\Users\\alice\\ffmpeg.dll');
    const a = hostFingerprint('0123456789abcdef0123456789abcdef', subject);
    const b = hostFingerprint('fedcba9876543210fedcba9876543210', subject);
    expect(a).not.toBe(b);
    expect(a).not.toBe(subject);
    expect(hostFingerprint('0123456789abcdef0123456789abcdef', subject)).toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    const finding = { fingerprint: subject } as Parameters<typeof findingOnHost>[0];
    expect(findingOnHost(finding, '0123456789abcdef0123456789abcdef').fingerprint).toBe(a);
  });
});
