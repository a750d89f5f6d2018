import { relative, sep } from 'node:path';

/** `path` as the imaged system saw it (`/Users/...`), when sweeping a mounted image rooted at `imageRoot`. */
export function imagePathOf(path: string, imageRoot: string | undefined): string | undefined {
  return imageRoot === undefined ? undefined : `/${relative(imageRoot, path).split(sep).join('/')}`;
}
