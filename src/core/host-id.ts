import { z } from 'zod';

/** Longest raw host id looked at; anything longer is malformed, whatever it holds. */
export const MAX_RAW_HOST_ID = 128;

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX32_SHAPE = /^[0-9a-f]{32}$/;

/** A host id as reports carry it: a lowercase GUID/UUID (8-4-4-4-12) or 32 lowercase hex digits. */
export const HostIdSchema = z
  .string()
  .max(36)
  .refine((id) => UUID_SHAPE.test(id) || HEX32_SHAPE.test(id), 'a lowercase GUID/UUID or 32 hex digits');

/** Where a report's `host.hostId` came from. */
export const HostIdSourceSchema = z.enum([
  /** Windows: `MachineGuid` in the SOFTWARE hive, key `Microsoft\Cryptography`. */
  'windows-machine-guid',
  /** macOS, live: `IOPlatformUUID` from `ioreg -rd1 -c IOPlatformExpertDevice`. */
  'macos-platform-uuid',
  /** macOS, from an image: the hardware UUID that names the `ByHost` preference files (the same IOPlatformUUID). */
  'macos-byhost-preferences',
  /** Linux: `/etc/machine-id`. */
  'linux-machine-id',
  /** Linux: `/var/lib/dbus/machine-id`, when `/etc/machine-id` is missing or malformed. */
  'linux-dbus-machine-id',
  /** No usable id on the machine: one made once and kept in the agent's state folder. */
  'agent-state',
  /** No usable id on the machine, none kept: 32 hex digits of SHA-256 over the OS family and the lowercased hostname. */
  'hostname-digest',
]);
export type HostIdSource = z.infer<typeof HostIdSourceSchema>;

/** A raw id read from a machine, normalised; or why it cannot be used. */
export type HostIdReading = { ok: true; id: string } | { ok: false; problem: string };

/**
 * Normalises an id read from a machine (an attacker may control it): bounded length, surrounding whitespace and
 * braces removed, lowercased, and checked to be a GUID/UUID or 32 hex digits that is not all zeros or all `f`.
 */
export function normaliseHostId(raw: string): HostIdReading {
  if (raw.length > MAX_RAW_HOST_ID)
    return { ok: false, problem: `longer than ${MAX_RAW_HOST_ID} characters` };
  const trimmed = raw.trim();
  const id = (
    trimmed.startsWith('{') && trimmed.endsWith('}') ? trimmed.slice(1, -1) : trimmed
  ).toLowerCase();
  if (id === '') return { ok: false, problem: 'empty' };
  if (!UUID_SHAPE.test(id) && !HEX32_SHAPE.test(id))
    return { ok: false, problem: `not a GUID/UUID or 32 hex digits (${trimmed.length} characters)` };
  if (/^[0-]+$/.test(id) || /^[f-]+$/.test(id))
    return { ok: false, problem: 'a placeholder (all 0 or all f)' };
  return { ok: true, id };
}
