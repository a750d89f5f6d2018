import { relative, sep } from 'node:path';
import { type HostPath, pathText } from '../core/paths.js';

/** `path` as the imaged system saw it (`/Users/...`), when sweeping a mounted image rooted at `imageRoot`. */
export function imagePathOf(path: HostPath, imageRoot: string | undefined): HostPath | undefined {
  if (imageRoot === undefined) return undefined;
  if (typeof path !== 'string' && sep === '/') {
    const root = Buffer.from(imageRoot.endsWith('/') ? imageRoot.slice(0, -1) : imageRoot);
    const bytes = Buffer.from(path.buffer, path.byteOffset, path.byteLength);
    if (
      bytes.subarray(0, root.length).equals(root) &&
      (bytes.length === root.length || bytes[root.length] === 0x2f)
    )
      return bytes.length === root.length ? '/' : bytes.subarray(root.length);
  }
  return `/${relative(imageRoot, pathText(path)).split(sep).join('/')}`;
}
