// Deterministic content for the benchmark data set: a seeded AES-128-CTR keystream (fast
// random bytes and random numbers) and generators of compressible, source-like text.
import { type Cipheriv, createCipheriv, createHash } from 'node:crypto';

const ZEROS = Buffer.alloc(1 << 20);

/** Random bytes and numbers from AES-128-CTR over zeros, keyed by SHA-256(seed). */
export class KeyStream {
  #cipher: Cipheriv;
  #pool: Buffer = Buffer.alloc(0);
  #pos = 0;

  constructor(seed: string) {
    const digest = createHash('sha256').update(`offsite-bench:${seed}`).digest();
    this.#cipher = createCipheriv('aes-128-ctr', digest.subarray(0, 16), digest.subarray(16, 32));
  }

  /** `n` fresh random bytes. */
  bytes(n: number): Buffer {
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const take = Math.min(left, ZEROS.length);
      parts.push(this.#cipher.update(ZEROS.subarray(0, take)));
      left -= take;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    if (this.#pos + 4 > this.#pool.length) {
      this.#pool = this.bytes(64 * 1024);
      this.#pos = 0;
    }
    const v = this.#pool.readUInt32LE(this.#pos);
    this.#pos += 4;
    return v;
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** A uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** An integer in [lo, hi] whose logarithm is uniform: many small values, a few large ones. */
  logRange(lo: number, hi: number): number {
    return Math.min(
      hi,
      Math.floor(Math.exp(Math.log(lo) + this.float() * (Math.log(hi + 1) - Math.log(lo)))),
    );
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

export const TEXT_FLAVORS = ['c', 'py', 'log', 'csv', 'conf'] as const;
export type TextFlavor = (typeof TEXT_FLAVORS)[number];

export const FLAVOR_EXT: Record<TextFlavor, readonly string[]> = {
  c: ['.c', '.h', '.cc'],
  py: ['.py', '.go', '.rb'],
  log: ['.log', '.txt'],
  csv: ['.csv', '.tsv'],
  conf: ['.conf', '.ini', '.cfg'],
};

const SYLLABLES = (
  'ka ro mi te sa lo ne vu di pa str buf len ctx ptr idx cnt max min get set init free read write ' +
  'open close node list map key val hash lock page blk sock conn req resp err log cfg opt tmp src ' +
  'dst file path dir name size time user group mode flag state queue pool task job peer host port ' +
  'addr net io dev disk part vol snap tree blob pack index chunk data meta sum crc zip enc dec'
).split(' ');
const WORDS = (
  'the a of to and in is for that with on as by this be are from at or an it not which ' +
  'should must will when if then else returns value buffer request response error failed ' +
  'success retry timeout connection server client backup restore snapshot repository ' +
  'chunk index pack blob tree file directory user session token cache memory disk network'
).split(' ');
const LEVELS = ['INFO', 'INFO', 'INFO', 'DEBUG', 'DEBUG', 'WARN', 'ERROR'];
const C_TYPES = ['int', 'size_t', 'uint32_t', 'uint64_t', 'char *', 'void *', 'bool', 'struct buf *'];
const OPS = ['==', '!=', '<', '>', '<=', '>='];

/** Builds compressible text that looks like source code, logs, CSV or configuration. */
export class TextGen {
  #rng: KeyStream;
  #ids: string[];

  constructor(rng: KeyStream) {
    this.#rng = rng;
    this.#ids = [];
    for (let i = 0; i < 3000; i++) {
      const n = rng.range(1, 3);
      const parts: string[] = [];
      for (let j = 0; j < n; j++) parts.push(rng.pick(SYLLABLES));
      this.#ids.push(parts.join('_'));
    }
  }

  #id(): string {
    // Zipf-like: low indices are much more frequent, as in real code.
    const r = this.#rng.float();
    return this.#ids[Math.floor(r * r * r * this.#ids.length)]!;
  }

  #words(n: number): string {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.#rng.pick(WORDS));
    return out.join(' ');
  }

  #num(): number {
    return this.#rng.logRange(1, 100000);
  }

  /** About `bytes` bytes of text (exactly `bytes` long) of the given flavour. */
  text(flavor: TextFlavor, bytes: number): Buffer {
    const lines: string[] = [];
    let len = 0;
    const rng = this.#rng;
    let day = rng.range(1, 28);
    let sec = rng.below(86400);
    let row = 1;
    while (len < bytes) {
      let chunk: string;
      switch (flavor) {
        case 'c':
          chunk = this.#cFunction();
          break;
        case 'py':
          chunk = this.#pyFunction();
          break;
        case 'log': {
          sec += rng.below(5);
          if (sec >= 86400) {
            sec -= 86400;
            day = (day % 28) + 1;
          }
          const t = `${String(Math.floor(sec / 3600)).padStart(2, '0')}:${String(Math.floor(sec / 60) % 60).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}`;
          chunk = `2024-03-${String(day).padStart(2, '0')}T${t}.${String(rng.below(1000)).padStart(3, '0')}Z ${rng.pick(LEVELS)} [${this.#id()}] ${this.#words(rng.range(3, 12))} ${this.#id()}=${this.#num()} peer=10.${rng.below(4)}.${rng.below(256)}.${rng.range(1, 254)} req=${rng.u32().toString(16)}\n`;
          break;
        }
        case 'csv':
          chunk = `${row++},${this.#id()},${(rng.float() * 1000).toFixed(2)},${rng.below(100)},2024-0${rng.range(1, 9)}-${String(rng.range(1, 28)).padStart(2, '0')},${rng.pick(WORDS)},${rng.below(2) ? 'true' : 'false'}\n`;
          break;
        case 'conf':
          chunk =
            rng.below(8) === 0
              ? `\n[${this.#id()}]\n# ${this.#words(rng.range(4, 10))}\n`
              : `${this.#id()} = ${rng.below(2) ? this.#num() : this.#id()}\n`;
          break;
      }
      lines.push(chunk);
      len += chunk.length;
    }
    return Buffer.from(lines.join('')).subarray(0, bytes);
  }

  #cFunction(): string {
    const rng = this.#rng;
    const out: string[] = [];
    if (rng.below(3) === 0)
      out.push(`/*\n * ${this.#words(rng.range(6, 14))}\n * ${this.#words(rng.range(4, 10))}\n */\n`);
    out.push(
      `static ${rng.pick(C_TYPES)} ${this.#id()}(${rng.pick(C_TYPES)} ${this.#id()}, ${rng.pick(C_TYPES)} ${this.#id()})\n{\n`,
    );
    let depth = 1;
    const body = rng.range(3, 25);
    for (let i = 0; i < body; i++) {
      const pad = '\t'.repeat(depth);
      const k = rng.below(10);
      if (k < 4) out.push(`${pad}${this.#id()} = ${this.#id()}(${this.#id()}, ${this.#num()});\n`);
      else if (k < 6 && depth < 4) {
        out.push(`${pad}if (${this.#id()} ${rng.pick(OPS)} ${this.#num()}) {\n`);
        depth++;
      } else if (k < 8 && depth > 1) {
        depth--;
        out.push(`${'\t'.repeat(depth)}}\n`);
      } else if (k === 8) out.push(`${pad}/* ${this.#words(rng.range(3, 9))} */\n`);
      else out.push(`${pad}${this.#id()}->${this.#id()} += ${this.#id()};\n`);
    }
    while (depth > 1) {
      depth--;
      out.push(`${'\t'.repeat(depth)}}\n`);
    }
    out.push(`\treturn ${this.#id()};\n}\n\n`);
    return out.join('');
  }

  #pyFunction(): string {
    const rng = this.#rng;
    const out: string[] = [`def ${this.#id()}(${this.#id()}, ${this.#id()}=None):\n`];
    out.push(`    """${this.#words(rng.range(5, 12))}."""\n`);
    let depth = 1;
    const body = rng.range(3, 20);
    for (let i = 0; i < body; i++) {
      const pad = '    '.repeat(depth);
      const k = rng.below(10);
      if (k < 4) out.push(`${pad}${this.#id()} = ${this.#id()}.${this.#id()}(${this.#num()})\n`);
      else if (k < 6 && depth < 4) {
        out.push(`${pad}${rng.below(2) ? 'if' : 'for item in'} ${this.#id()}:\n`);
        depth++;
        out.push(`${'    '.repeat(depth)}${this.#id()} += ${this.#num()}\n`);
      } else if (k < 8 && depth > 1) depth--;
      else if (k === 8) out.push(`${pad}# ${this.#words(rng.range(3, 9))}\n`);
      else out.push(`${pad}self.${this.#id()}[${this.#id()}] = ${this.#id()}\n`);
    }
    out.push(`    return ${this.#id()}\n\n\n`);
    return out.join('');
  }
}
