import { z } from 'zod';

/** Where an installed-application fact came from. */
export const AppSourceSchema = z.enum([
  'windows-uninstall',
  'windows-programs',
  'macos-bundle',
  'dpkg',
  'rpm',
  'pacman',
  'apk',
  'homebrew',
]);
export type AppSource = z.infer<typeof AppSourceSchema>;

/** One installed application or package, as a fact: no judgement attached. */
export const InstalledAppSchema = z.object({
  name: z.string(),
  version: z.string(),
  publisher: z.string().optional(),
  source: AppSourceSchema,
  /** The file, folder or registry key the fact was read from. */
  location: z.string(),
  /** The user profile it belongs to, for per-user installs. */
  user: z.string().optional(),
  bundleId: z.string().optional(),
  installLocation: z.string().optional(),
  uninstallCommand: z.string().optional(),
  /** MSI product code, for Windows Installer packages. */
  productCode: z.string().optional(),
  arch: z.string().optional(),
});
export type InstalledApp = z.infer<typeof InstalledAppSchema>;

export const VerdictSchema = z.enum(['affected', 'fixed', 'not-affected', 'unknown']);
/** What a pack says of an installed app's version. */
export type Verdict = z.infer<typeof VerdictSchema>;

/** A pack's judgement of one installed app. */
export const AppVerdictSchema = z.object({
  /** Index into inventory.apps. */
  app: z.number().int().nonnegative(),
  packId: z.string(),
  productId: z.string(),
  product: z.string(),
  verdict: VerdictSchema,
  advisory: z.string().optional(),
  affected: z.array(z.string()),
  fixed: z.array(z.string()),
});
export type AppVerdict = z.infer<typeof AppVerdictSchema>;

export const OsFamilySchema = z.enum(['windows', 'macos', 'linux', 'unknown']);
export type OsFamily = z.infer<typeof OsFamilySchema>;
