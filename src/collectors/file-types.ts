/** File kinds YARA is run on by default: executables and libraries of every OS, scripts, installers, archives, icons. */

/** The first entries of MAGICS are the executable formats. */
const EXECUTABLE_MAGICS = 7;
const MAGICS: readonly (readonly number[])[] = [
  [0x4d, 0x5a], // MZ: PE executables, DLLs, drivers
  [0x7f, 0x45, 0x4c, 0x46], // ELF
  [0xfe, 0xed, 0xfa, 0xce], // Mach-O 32-bit big-endian
  [0xfe, 0xed, 0xfa, 0xcf], // Mach-O 64-bit big-endian
  [0xce, 0xfa, 0xed, 0xfe], // Mach-O 32-bit little-endian
  [0xcf, 0xfa, 0xed, 0xfe], // Mach-O 64-bit little-endian
  [0xca, 0xfe, 0xba, 0xbe], // Mach-O universal (also Java class)
  [0x23, 0x21], // #! script
  [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], // OLE2: MSI, old Office
  [0x50, 0x4b, 0x03, 0x04], // ZIP, nupkg, jar, docx
  [0x1f, 0x8b], // gzip
  [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], // 7z
  [0x52, 0x61, 0x72, 0x21], // RAR
  [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], // xz
  [0x42, 0x5a, 0x68], // bzip2
  [0x4d, 0x53, 0x43, 0x46], // CAB
  [0x78, 0x61, 0x72, 0x21], // xar: macOS .pkg
  [0x21, 0x3c, 0x61, 0x72, 0x63, 0x68, 0x3e], // ar: .deb
  [0xed, 0xab, 0xee, 0xdb], // RPM
  [0x00, 0x00, 0x01, 0x00], // ICO
  [0x64, 0x65, 0x78, 0x0a], // Android dex
];

const EXTENSIONS = new Set([
  'exe',
  'dll',
  'sys',
  'scr',
  'cpl',
  'ocx',
  'drv',
  'efi',
  'com',
  'so',
  'dylib',
  'bundle',
  'ko',
  'elf',
  'bin',
  'o',
  'ps1',
  'psm1',
  'psd1',
  'bat',
  'cmd',
  'vbs',
  'vbe',
  'js',
  'jse',
  'mjs',
  'cjs',
  'wsf',
  'wsh',
  'hta',
  'sh',
  'bash',
  'zsh',
  'py',
  'pyc',
  'pl',
  'rb',
  'php',
  'jsp',
  'aspx',
  'asp',
  'lua',
  'applescript',
  'scpt',
  'command',
  'tool',
  'lnk',
  'msi',
  'msp',
  'msix',
  'appx',
  'nupkg',
  'dmg',
  'pkg',
  'mpkg',
  'deb',
  'rpm',
  'apk',
  'jar',
  'war',
  'iso',
  'img',
  'zip',
  '7z',
  'rar',
  'gz',
  'tgz',
  'xz',
  'bz2',
  'cab',
  'tar',
  'asar',
  'ico',
  'm4',
  'icns',
  'doc',
  'docm',
  'xls',
  'xlsm',
  'ppt',
  'pptm',
  'rtf',
  'one',
  'chm',
  'reg',
  'inf',
  'plist',
]);

/** True when `head` starts an executable or library (PE, ELF, Mach-O): the files a report lists as facts. */
export function isExecutableImage(head: Uint8Array): boolean {
  return MAGICS.slice(0, EXECUTABLE_MAGICS).some(
    (magic) => head.length >= magic.length && magic.every((byte, i) => head[i] === byte),
  );
}

/** True when `head` (the first bytes) or the file name says this is a type malware hides in. */
export function isMalwareFileType(head: Uint8Array, fileName: string): boolean {
  for (const magic of MAGICS) {
    if (head.length >= magic.length && magic.every((byte, i) => head[i] === byte)) return true;
  }
  const dot = fileName.lastIndexOf('.');
  if (dot > 0 && EXTENSIONS.has(fileName.slice(dot + 1).toLowerCase())) return true;
  // Files with no extension are executables often enough on macOS and Linux that their names alone cannot clear them.
  return dot <= 0 && head.length > 0 && !looksLikeText(head);
}

function looksLikeText(head: Uint8Array): boolean {
  const n = Math.min(head.length, 512);
  for (let i = 0; i < n; i++) {
    const b = head[i] as number;
    if (b === 0 || b < 0x09 || (b > 0x0d && b < 0x20 && b !== 0x1b)) return false;
  }
  return true;
}
