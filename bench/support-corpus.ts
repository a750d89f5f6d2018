/**
 * @module The support bench's forum corpus: deterministic English-like posts whose words follow a Zipf law over
 * common English words, the 3CX incident's vocabulary (file names, versions, beacon, uninstall) and a long tail
 * of pseudo-words, with a few rare planted words, so that searches have selective and common terms alike.
 */
import { queryTerms, wordsOf } from '../packages/hub/src/support/forum/search-terms.js';
import { Random } from './random.js';

/** Posts per thread: the opening post and its replies. */
export const POSTS_PER_THREAD = 10;

const COMMON =
  `the of and to a in is it you that he was for on are with as i his they be at one have this from or
had by not word but what some we can out other were all there when up use your how said an each she which do their
time if will way about many then them write would like so these her long make thing see him two has look more day
could go come did number sound no most people my over know water than call first who may down side been now find
any new work part take get place made live where after back little only round man year came show every good me give
our under name very through just form sentence great think say help low line differ turn cause much mean before move
right boy old too same tell does set three want air well also play small end put home read hand port large spell add
even land here must big high such follow act why ask men change went light kind off need house picture try us again
animal point mother world near build self earth father`.split(/\s+/);

const INCIDENT =
  `3cx desktop app update installer electron windows macos beacon uninstall reinstall ffmpeg.dll
d3dcompiler_47.dll signature hash sha256 quarantine endpoint github icon payload shellcode c2 domain dns proxy
firewall pwa browser version 18.12.416 18.12.407 18.11.1213 12.2.0 scan sweep agent host fleet hub ticket forum
advisory vendor supply chain compromise trojanized dll sideloading msi pkg dylib libffmpeg.dylib registry
antivirus edr crowdstrike sentinelone alert false positive detection remediation incident response`.split(
    /\s+/,
  );

/** Words found in a few posts only. */
const RARE = ['smoothoperator', 'iconic stealer', 'gopuram', 'xtrader', 'taxhaul'];

/** Pseudo-words from syllables: the long tail of the vocabulary. */
function tailWords(count: number): string[] {
  const random = new Random(7);
  const syllables = [
    'ka',
    'lo',
    'mi',
    'ter',
    'on',
    'ar',
    'sel',
    'vi',
    'na',
    'dro',
    'pel',
    'ux',
    'ti',
    'ber',
    'gam',
  ];
  const words = new Set<string>();
  while (words.size < count) {
    let word = '';
    for (let n = random.int(2, 4); n > 0; n--) word += random.pick(syllables);
    words.add(word);
  }
  return [...words];
}

/** Draws words with Zipf frequencies: the i-th word of `words` weighs 1 / (i + 1). */
class ZipfWords {
  private readonly cumulative: Float64Array;

  constructor(private readonly words: readonly string[]) {
    this.cumulative = new Float64Array(words.length);
    let sum = 0;
    for (let i = 0; i < words.length; i++) {
      sum += 1 / (i + 1);
      this.cumulative[i] = sum;
    }
  }

  draw(random: Random): string {
    const target = random.next() * (this.cumulative[this.cumulative.length - 1] as number);
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((this.cumulative[mid] as number) < target) low = mid + 1;
      else high = mid;
    }
    return this.words[low] as string;
  }
}

const VOCABULARY = new ZipfWords([
  ...COMMON.slice(0, 40),
  ...INCIDENT,
  ...COMMON.slice(40),
  ...tailWords(4000),
]);

const TEMPLATES = [
  'We found ffmpeg.dll and d3dcompiler_47.dll next to the 3CX desktop app on {n} hosts.',
  'Version 18.12.416 of the Electron app was flagged; should we uninstall it everywhere?',
  'The beacon to the C2 domain stopped after the uninstall, but the hash still matches.',
  'Is the PWA in the browser safe to use while the desktop app is in quarantine?',
  'Our EDR raised an alert on the signature of ffmpeg.dll; is it a false positive?',
  'After the update to 18.12.407 on macOS the libffmpeg.dylib hash changed.',
  'Steps: uninstall, reboot, sweep with the latest pack, then install the PWA.',
  'The icon files on GitHub carried the payload address, according to the advisory.',
];

/** One post of the corpus: its text and who may see it. */
export interface CorpusPost {
  thread: number;
  body: string;
  /** The opening post's thread title, for an opening post. */
  title?: string;
  /** The thread belongs to the other organisation. */
  otherOrg: boolean;
  hidden: boolean;
}

function sentence(random: Random): string {
  if (random.next() < 0.25) return random.pick(TEMPLATES).replace('{n}', String(random.int(2, 400)));
  const words: string[] = [];
  for (let n = random.int(6, 16); n > 0; n--) words.push(VOCABULARY.draw(random));
  if (random.next() < 0.004) words.splice(random.int(0, words.length), 0, random.pick(RARE));
  const text = words.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${random.pick(['.', '.', '.', '?', '!'])}`;
}

/** `sentences` sentences of English-like text with the incident's vocabulary. */
export function paragraph(random: Random, sentences: number): string {
  return Array.from({ length: sentences }, () => sentence(random)).join(' ');
}

/** Post `i` of a corpus of `threads` threads (threads first; post i belongs to thread i mod threads). */
function corpusPost(i: number, threads: number): CorpusPost {
  const random = new Random(1_000_003 + i);
  const thread = i % threads;
  const otherOrg = thread % 10 === 7;
  if (i < threads) {
    const title = paragraph(random, 1)
      .slice(0, 120)
      .replace(/[.?!]$/, '');
    return { thread, title, body: paragraph(random, random.int(2, 6)), otherOrg, hidden: false };
  }
  return { thread, body: paragraph(random, random.int(1, 5)), otherOrg, hidden: i % 100 === 42 };
}

/** The words each post is indexed by, as the hub indexes them. */
export function indexedWords(post: CorpusPost): Set<string> {
  return new Set([...wordsOf(post.title ?? ''), ...wordsOf(post.body)]);
}

/** How many posts the bench organisation's member must find for `q`: all terms, the last as a prefix. */
export function expectedHits(
  corpus: readonly CorpusPost[],
  words: readonly Set<string>[],
  q: string,
): number {
  const terms = queryTerms(q);
  const whole = terms.slice(0, -1);
  const prefix = terms[terms.length - 1] as string;
  let count = 0;
  for (let i = 0; i < corpus.length; i++) {
    const post = corpus[i] as CorpusPost;
    if (post.otherOrg || post.hidden) continue;
    const have = words[i] as Set<string>;
    if (!whole.every((term) => have.has(term))) continue;
    if (have.has(prefix) || [...have].some((word) => word.startsWith(prefix))) count++;
  }
  return count;
}

/** A corpus of `posts` posts in `posts / POSTS_PER_THREAD` threads: every thread's opening post, then the replies. */
export function supportCorpus(posts: number): CorpusPost[] {
  const threads = Math.ceil(posts / POSTS_PER_THREAD);
  return Array.from({ length: posts }, (_, i) => corpusPost(i, threads));
}
