/**
 * Version ordering for the schemes installed software uses: `generic` (Windows file versions, macOS bundle
 * versions, semver-like: numeric parts compared as numbers, missing parts are zero, so 18.12.416 = 18.12.416.0),
 * `dpkg` (epoch:upstream-revision, Debian policy ordering, `~` before everything) and `rpm` (epoch:version-release,
 * rpmvercmp; pacman and apk use the same shape).
 */
export type VersionScheme = 'generic' | 'dpkg' | 'rpm';

/** Negative, zero or positive as `a` sorts before, equal to or after `b`. */
export function compareVersions(a: string, b: string, scheme: VersionScheme): number {
  if (scheme === 'generic') return compareGeneric(a, b);
  const x = splitEvr(a, scheme);
  const y = splitEvr(b, scheme);
  const segmentCompare = scheme === 'dpkg' ? dpkgCompare : rpmCompare;
  return (
    Math.sign(x.epoch - y.epoch) ||
    segmentCompare(x.version, y.version) ||
    segmentCompare(x.release, y.release)
  );
}

/**
 * Whether `installed` satisfies one range: space-separated comparators (`>=18.12.402 <=18.12.416`), or a bare
 * version meaning equality. For dpkg and rpm, a range version without a revision/release is compared with the
 * installed epoch and upstream version only (so "5.6.1" matches rpm 5.6.1-1.fc41 but not 5.6.1.revertto5.4).
 */
export function satisfies(installed: string, range: string, scheme: VersionScheme): boolean {
  const comparators = range.trim().split(/\s+/).filter(Boolean);
  if (comparators.length === 0) return false;
  return comparators.every((comparator) => {
    const [, op = '=', wanted = ''] = /^(>=|<=|>|<|==|=)?(.+)$/.exec(comparator) ?? [];
    const subject =
      scheme !== 'generic' && !hasRelease(wanted, scheme) ? withoutRelease(installed, scheme) : installed;
    const order = compareVersions(subject, wanted, scheme);
    switch (op) {
      case '>=':
        return order >= 0;
      case '<=':
        return order <= 0;
      case '>':
        return order > 0;
      case '<':
        return order < 0;
      default:
        return order === 0;
    }
  });
}

/** A range is well-formed when every comparator has a version after its operator. */
export function isValidRange(range: string): boolean {
  const comparators = range.trim().split(/\s+/).filter(Boolean);
  return comparators.length > 0 && comparators.every((c) => /^(>=|<=|>|<|==|=)?[A-Za-z0-9~^:.+_-]+$/.test(c));
}

function compareGeneric(a: string, b: string): number {
  const x = a.trim().split(/[.\-+_ ]/);
  const y = b.trim().split(/[.\-+_ ]/);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i] ?? '0';
    const q = y[i] ?? '0';
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) {
      const d = compareDigits(p, q);
      if (d) return d;
    } else if (pn !== qn) {
      return pn ? 1 : -1; // 1.0.1 > 1.0.beta
    } else if (p !== q) {
      return p < q ? -1 : 1;
    }
  }
  return 0;
}

interface Evr {
  epoch: number;
  version: string;
  release: string;
}

function splitEvr(text: string, scheme: 'dpkg' | 'rpm'): Evr {
  let rest = text.trim();
  let epoch = 0;
  const colon = rest.indexOf(':');
  if (colon > 0 && /^\d+$/.test(rest.slice(0, colon))) {
    epoch = Number(rest.slice(0, colon));
    rest = rest.slice(colon + 1);
  }
  // dpkg: the revision follows the last hyphen; rpm (and pacman, apk): the release follows the last hyphen too.
  const dash = rest.lastIndexOf('-');
  if (dash <= 0) return { epoch, version: rest, release: scheme === 'dpkg' ? '' : '' };
  return { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) };
}

function hasRelease(version: string, scheme: 'dpkg' | 'rpm'): boolean {
  return splitEvr(version, scheme).release !== '';
}

function withoutRelease(version: string, scheme: 'dpkg' | 'rpm'): string {
  const { epoch, version: upstream } = splitEvr(version, scheme);
  return epoch ? `${epoch}:${upstream}` : upstream;
}

/** Debian's verrevcmp: alternate non-digit and digit runs; `~` sorts before anything, letters before others. */
function dpkgCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = dpkgOrder(a[i]);
      const bc = dpkgOrder(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (!firstDiff) firstDiff = (a.charCodeAt(i) as number) - (b.charCodeAt(j) as number);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff) return Math.sign(firstDiff);
  }
  return 0;
}

function dpkgOrder(c: string | undefined): number {
  if (c === undefined || isDigit(c)) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

/** rpmvercmp: compare alphanumeric segments; numeric beats alphabetic; `~` sorts first, `^` after the base. */
function rpmCompare(a: string, b: string): number {
  if (a === b) return 0;
  let x = a;
  let y = b;
  for (;;) {
    x = x.replace(/^[^A-Za-z0-9~^]+/, '');
    y = y.replace(/^[^A-Za-z0-9~^]+/, '');
    if (x.startsWith('~') || y.startsWith('~')) {
      if (!x.startsWith('~')) return 1;
      if (!y.startsWith('~')) return -1;
      x = x.slice(1);
      y = y.slice(1);
      continue;
    }
    if (x.startsWith('^') || y.startsWith('^')) {
      if (x === '') return -1;
      if (y === '') return 1;
      if (!x.startsWith('^')) return 1;
      if (!y.startsWith('^')) return -1;
      x = x.slice(1);
      y = y.slice(1);
      continue;
    }
    if (x === '' || y === '') break;
    const numeric = isDigit(x[0]);
    const pattern = numeric ? /^\d+/ : /^[A-Za-z]+/;
    const p = pattern.exec(x)?.[0] ?? '';
    const q = pattern.exec(y)?.[0] ?? '';
    if (q === '') return numeric ? 1 : -1;
    const d = numeric ? compareDigits(p, q) : p < q ? -1 : p > q ? 1 : 0;
    if (d) return d;
    x = x.slice(p.length);
    y = y.slice(q.length);
  }
  if (x === '' && y === '') return 0;
  return x === '' ? -1 : 1;
}

function compareDigits(p: string, q: string): number {
  const a = p.replace(/^0+/, '');
  const b = q.replace(/^0+/, '');
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}
