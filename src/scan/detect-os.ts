import { findPath } from '../collectors/apps/fs-paths.js';
import type { OsFamily } from '../core/app.js';

/** The operating system installed under `root`: Windows, macOS or Linux, by their marker files. */
export function detectOs(root: string): OsFamily {
  if (findPath(root, 'Windows/System32')) return 'windows';
  if (findPath(root, 'System/Library/CoreServices/SystemVersion.plist')) return 'macos';
  if (
    findPath(root, 'etc/os-release') ||
    findPath(root, 'usr/lib/os-release') ||
    findPath(root, 'var/lib/dpkg/status')
  )
    return 'linux';
  return 'unknown';
}

/** The running system's family. */
export function liveOs(): OsFamily {
  if (process.platform === 'win32') return 'windows';
  if (process.platform === 'darwin') return 'macos';
  return process.platform === 'linux' ? 'linux' : 'unknown';
}
