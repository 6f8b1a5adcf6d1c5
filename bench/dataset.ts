// Builds (and caches) the deterministic benchmark data set, mutates it for the incremental
// run, and builds the optional "one million small files" set.
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { FLAVOR_EXT, KeyStream, TEXT_FLAVORS, type TextFlavor, TextGen } from './generate.ts';

/** Bump when the generator changes, so cached data sets are rebuilt. */
const DATASET_VERSION = 1;
const KiB = 1024;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export interface Dataset {
  name: string;
  /** The directory that is backed up (absolute). */
  dir: string;
  /** Holds `dir` and the marker file. */
  home: string;
  size: number;
  seed: string;
  composition: Record<string, { files: number; bytes: number }>;
  files: number;
  bytes: number;
  /** True when the cached copy was reused. */
  cached: boolean;
  buildSec: number;
}

export interface Mutation {
  changedFiles: string[];
  addedFiles: string[];
  addedBytes: number;
  changedBytesWritten: number;
  totalFilesBefore: number;
}

type Log = (msg: string) => void;

export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$/i.exec(text);
  if (!m) throw new Error(`--size: "${text}" is not a size (write e.g. 200MiB, 1GiB, 500MB)`);
  const unit = m[2]!.toLowerCase();
  // "MiB" and a bare "M" are binary; "MB" is decimal.
  const base = m[3] || !/b\s*$/i.test(text) ? 1024 : 1000;
  const exp = ['', 'k', 'm', 'g', 't'].indexOf(unit);
  return Math.round(Number(m[1]) * base ** exp);
}

export function sizeLabel(n: number): string {
  if (n % GiB === 0) return `${n / GiB}GiB`;
  if (n % MiB === 0) return `${n / MiB}MiB`;
  if (n % KiB === 0) return `${n / KiB}KiB`;
  return `${n}B`;
}

function markerPath(home: string): string {
  return join(home, 'COMPLETE.json');
}

function writeFileIn(root: string, rel: string, data: Buffer): void {
  const path = join(root, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

/** Regular ELF files under /usr/bin and /usr/lib, sorted by path. */
function listSystemBinaries(maxFile: number): { path: string; size: number }[] {
  const found: { path: string; size: number }[] = [];
  const header = Buffer.alloc(4);
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of entries) {
      const path = join(dir, name);
      let st: ReturnType<typeof lstatSync>;
      try {
        st = lstatSync(path);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(path);
      else if (st.isFile() && st.size >= 4 * KiB && st.size <= maxFile) {
        try {
          const fd = openSync(path, 'r');
          readSync(fd, header, 0, 4, 0);
          closeSync(fd);
          if (header.readUInt32BE(0) === 0x7f454c46) found.push({ path, size: st.size });
        } catch {}
      }
    }
  };
  walk('/usr/bin');
  walk('/usr/lib');
  return found.sort((a, b) => (a.path < b.path ? -1 : 1));
}

function addBinaries(
  dir: string,
  budget: number,
  rng: KeyStream,
  log: Log,
): { files: number; bytes: number; listHash: string } {
  const candidates = listSystemBinaries(Math.max(64 * KiB, Math.min(64 * MiB, Math.floor(budget / 8))));
  rng.shuffle(candidates);
  const chosen: { path: string; size: number }[] = [];
  let bytes = 0;
  for (const c of candidates) {
    if (bytes + c.size > budget) continue;
    chosen.push(c);
    bytes += c.size;
    if (bytes > budget - 4 * KiB) break;
  }
  chosen.sort((a, b) => (a.path < b.path ? -1 : 1));
  const hash = createHash('sha256');
  for (const c of chosen) {
    const dest = join(dir, 'system', c.path);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(c.path, dest);
    hash.update(`${c.path}\0${c.size}\n`);
  }
  log(
    `  binaries: ${chosen.length} ELF files from /usr (${(bytes / MiB).toFixed(1)} MiB of ${candidates.length} candidates)`,
  );
  return { files: chosen.length, bytes, listHash: hash.digest('hex') };
}

function addText(
  dir: string,
  budget: number,
  rng: KeyStream,
  gen: TextGen,
): { files: number; bytes: number } {
  let bytes = 0;
  let files = 0;
  const projects = Math.max(2, Math.round(budget / (40 * MiB)));
  while (bytes < budget) {
    const flavor = rng.pick(TEXT_FLAVORS);
    const size = Math.min(budget - bytes, rng.logRange(4 * KiB, 4 * MiB));
    const sub = flavor === 'log' ? 'logs' : flavor === 'csv' ? 'data' : flavor === 'conf' ? 'etc' : 'src';
    const rel = join(
      'projects',
      `proj-${rng.below(projects)}`,
      sub,
      `m${rng.below(12)}`,
      `f${files}${rng.pick(FLAVOR_EXT[flavor])}`,
    );
    writeFileIn(dir, rel, gen.text(flavor, size));
    bytes += size;
    files++;
  }
  return { files, bytes };
}

/** One small file's content: text, incompressible, or sparse "structured binary". */
function smallContent(rng: KeyStream, gen: TextGen, size: number): { data: Buffer; ext: string } {
  const k = rng.below(20);
  if (k < 9) {
    const flavor: TextFlavor = rng.pick(TEXT_FLAVORS);
    return { data: gen.text(flavor, size), ext: rng.pick(FLAVOR_EXT[flavor]) };
  }
  if (k < 16) return { data: rng.bytes(size), ext: rng.pick(['.jpg', '.gz', '.bin', '.pdf']) };
  const data = Buffer.alloc(size);
  for (let off = 0; off < size; off += 512)
    if (rng.below(3) === 0) rng.bytes(Math.min(128, size - off)).copy(data, off);
  return { data, ext: '.dat' };
}

function addSmallFiles(
  dir: string,
  budget: number,
  rng: KeyStream,
  gen: TextGen,
): { files: number; bytes: number } {
  const dirs: string[] = [];
  const nDirs = Math.max(8, Math.round(budget / (16 * KiB) / 25));
  for (let i = 0; i < nDirs; i++) {
    const depth = rng.range(1, 4);
    const parts = [`user-${rng.below(4)}`];
    for (let d = 0; d < depth; d++) parts.push(`d${rng.below(6)}`);
    dirs.push(join('home', ...parts));
  }
  let bytes = 0;
  let files = 0;
  const written: string[] = [];
  while (bytes < budget) {
    const size = Math.min(budget - bytes, rng.logRange(KiB, 64 * KiB));
    const where = rng.pick(dirs);
    let content: Buffer;
    let rel: string;
    if (written.length > 50 && rng.below(50) === 0) {
      // A few exact duplicates (copied files), which every tool should deduplicate.
      const src = rng.pick(written);
      content = readFileSync(join(dir, src));
      rel = join(where, `copy-${files}-${src.split('/').at(-1)}`);
    } else {
      const c = smallContent(rng, gen, size);
      content = c.data;
      rel = join(where, `f${files}${c.ext}`);
    }
    writeFileIn(dir, rel, content);
    written.push(rel);
    bytes += content.length;
    files++;
  }
  // Some symlinks and empty directories, which a restore must reproduce too.
  for (let i = 0; i < 24; i++) {
    const target = rng.pick(written);
    const link = join(dirname(target), `link-${i}`);
    if (!existsSync(join(dir, link))) symlinkSync(target.split('/').at(-1)!, join(dir, link));
  }
  for (let i = 0; i < 6; i++)
    mkdirSync(join(dir, 'home', `user-${i % 4}`, `empty-${i}`), { recursive: true });
  return { files, bytes };
}

/** A "VM disk image": random blocks, zero runs, repeated earlier regions and text. */
function addDiskImage(
  dir: string,
  budget: number,
  rng: KeyStream,
  gen: TextGen,
): { files: number; bytes: number } {
  const path = join(dir, 'images', 'vm-disk.img');
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w+');
  let pos = 0;
  const put = (buf: Buffer): void => {
    writeSync(fd, buf, 0, buf.length, pos);
    pos += buf.length;
  };
  while (pos < budget) {
    const left = budget - pos;
    const k = rng.below(20);
    const len = Math.min(left, rng.range(1, 8) * MiB);
    if (k < 8) put(rng.bytes(len));
    else if (k < 13) put(Buffer.alloc(Math.min(left, rng.range(1, 16) * MiB)));
    else if (k < 17 && pos > 16 * MiB) {
      // Repeat an earlier 4 KiB-aligned region (a copied file inside the guest filesystem).
      const src = rng.below(Math.floor((pos - len) / 4096)) * 4096;
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, src);
      put(buf);
    } else if (k < 19) put(gen.text('log', len));
    else {
      const buf = Buffer.alloc(len); // sparse: a few random 4 KiB blocks in zeros
      for (let off = 0; off < len; off += 4096)
        if (rng.below(8) === 0) rng.bytes(Math.min(4096, len - off)).copy(buf, off);
      put(buf);
    }
  }
  closeSync(fd);
  return { files: 1, bytes: pos };
}

interface Marker {
  version: number;
  seed: string;
  size: number;
  composition: Dataset['composition'];
  files: number;
  bytes: number;
  binaryListSha256: string;
  builtAt: string;
  buildSec: number;
}

/** Returns the cached data set for (size, seed) or builds it under `dataRoot`. */
export function ensureDataset(dataRoot: string, size: number, seed: string, log: Log): Dataset {
  const name = `mix-${sizeLabel(size)}`;
  const home = join(dataRoot, name);
  const dir = join(home, 'src');
  if (existsSync(markerPath(home))) {
    const m = JSON.parse(readFileSync(markerPath(home), 'utf8')) as Marker;
    if (m.version === DATASET_VERSION && m.seed === seed && m.size === size) {
      log(`data set ${name}: cached in ${home}`);
      return {
        name,
        dir,
        home,
        size,
        seed,
        composition: m.composition,
        files: m.files,
        bytes: m.bytes,
        cached: true,
        buildSec: m.buildSec,
      };
    }
  }
  log(`data set ${name}: building in ${home} (seed "${seed}")`);
  const started = performance.now();
  rmSync(home, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const rng = new KeyStream(`${seed}/${size}`);
  const gen = new TextGen(new KeyStream(`${seed}/text`));
  const bin = addBinaries(dir, Math.floor(size * 0.35), rng, log);
  const image = addDiskImage(dir, Math.floor(size * 0.25), rng, gen);
  log(`  disk image: ${(image.bytes / MiB).toFixed(1)} MiB`);
  const small = addSmallFiles(dir, Math.floor(size * 0.15), rng, gen);
  log(`  small files: ${small.files} files, ${(small.bytes / MiB).toFixed(1)} MiB`);
  // Text absorbs whatever the binaries could not fill, so the total matches --size.
  const text = addText(dir, size - bin.bytes - image.bytes - small.bytes, rng, gen);
  log(`  text/source: ${text.files} files, ${(text.bytes / MiB).toFixed(1)} MiB`);
  const composition = { binaries: bin, text, smallFiles: small, diskImage: image };
  const files = bin.files + text.files + small.files + image.files;
  const bytes = bin.bytes + text.bytes + small.bytes + image.bytes;
  const buildSec = (performance.now() - started) / 1000;
  const marker: Marker = {
    version: DATASET_VERSION,
    seed,
    size,
    composition: {
      binaries: { files: bin.files, bytes: bin.bytes },
      text,
      smallFiles: small,
      diskImage: image,
    },
    files,
    bytes,
    binaryListSha256: bin.listHash,
    builtAt: new Date().toISOString(),
    buildSec,
  };
  writeFileSync(markerPath(home), JSON.stringify(marker, null, 2));
  log(`  built ${files} files, ${(bytes / MiB).toFixed(1)} MiB in ${buildSec.toFixed(1)} s`);
  return { name, dir, home, size, seed, composition, files, bytes, cached: false, buildSec };
}

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.isFile()) out.push(relative(root, path));
    }
  };
  walk(root);
  return out;
}

/**
 * Changes ~3 % of the files in place (patches, appends, rewrites; always a few blocks of
 * the disk image) and adds `addBytes` of new files. Invalidates the cache marker first, so
 * the next run rebuilds the pristine data set.
 */
export function mutateDataset(ds: Dataset, seed: string, addBytes = 20 * MiB): Mutation {
  rmSync(markerPath(ds.home), { force: true });
  const rng = new KeyStream(`${seed}/mutate`);
  const gen = new TextGen(new KeyStream(`${seed}/mutate-text`));
  const files = listFiles(ds.dir);
  const image = join('images', 'vm-disk.img');
  const others = rng.shuffle(files.filter((f) => f !== image));
  const changed = [image, ...others.slice(0, Math.max(1, Math.ceil(files.length * 0.03)) - 1)];
  let written = 0;
  for (const rel of changed) {
    const path = join(ds.dir, rel);
    const fd = openSync(path, 'r+');
    const size = fstatSync(fd).size;
    const k = rel === image ? -1 : rng.below(10);
    if (k === -1) {
      for (let i = 0; i < 32; i++) {
        const off = rng.below(Math.max(1, Math.floor((size - 64 * KiB) / 4096))) * 4096;
        written += writeSync(fd, rng.bytes(64 * KiB), 0, 64 * KiB, off);
      }
    } else if (k < 5) {
      const len = Math.max(1, Math.min(4096, Math.floor(size / 10)));
      written += writeSync(fd, rng.bytes(len), 0, len, rng.below(Math.max(1, size - len)));
    } else if (k < 8) {
      const extra = gen.text('log', rng.range(KiB, 16 * KiB));
      written += writeSync(fd, extra, 0, extra.length, size);
    } else {
      closeSync(fd);
      const data = rng.bytes(Math.max(1, Math.round(size * (0.9 + rng.float() * 0.2))));
      writeFileSync(path, data);
      written += data.length;
      continue;
    }
    closeSync(fd);
  }
  const added: string[] = [];
  let addedBytes = 0;
  const add = (rel: string, data: Buffer): void => {
    writeFileIn(ds.dir, rel, data);
    added.push(rel);
    addedBytes += data.length;
  };
  add(join('new', 'download.iso'), rng.bytes(Math.floor(addBytes * 0.4)));
  add(join('new', 'app.log'), gen.text('log', Math.floor(addBytes * 0.2)));
  while (addedBytes < addBytes) {
    const c = smallContent(rng, gen, Math.min(addBytes - addedBytes, rng.logRange(KiB, 64 * KiB)));
    add(join('new', `batch-${rng.below(8)}`, `n${added.length}${c.ext}`), c.data);
  }
  return {
    changedFiles: changed,
    addedFiles: added,
    addedBytes,
    changedBytesWritten: written,
    totalFilesBefore: files.length,
  };
}

/** `count` files of 1–8 KiB in 1000-file directories, cached like the main data set. */
export function ensureSmallFiles(dataRoot: string, count: number, seed: string, log: Log): Dataset {
  const name = `small-${count}`;
  const home = join(dataRoot, name);
  const dir = join(home, 'src');
  const marker = markerPath(home);
  if (existsSync(marker)) {
    const m = JSON.parse(readFileSync(marker, 'utf8')) as Marker;
    if (m.version === DATASET_VERSION && m.seed === seed) {
      log(`data set ${name}: cached in ${home}`);
      return {
        name,
        dir,
        home,
        size: m.bytes,
        seed,
        composition: m.composition,
        files: m.files,
        bytes: m.bytes,
        cached: true,
        buildSec: m.buildSec,
      };
    }
  }
  log(`data set ${name}: building ${count} files in ${home}`);
  const started = performance.now();
  rmSync(home, { recursive: true, force: true });
  const rng = new KeyStream(`${seed}/small/${count}`);
  const gen = new TextGen(new KeyStream(`${seed}/small-text`));
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    if (i % 1000 === 0)
      mkdirSync(join(dir, `d${Math.floor(i / 1e5)}`, `d${Math.floor(i / 1000) % 100}`), { recursive: true });
    const size = rng.range(KiB, 8 * KiB);
    const data = rng.below(2) ? gen.text('conf', size) : rng.bytes(size);
    writeFileSync(join(dir, `d${Math.floor(i / 1e5)}`, `d${Math.floor(i / 1000) % 100}`, `f${i}`), data);
    bytes += size;
    if (i > 0 && i % 100_000 === 0) log(`  ${i} files…`);
  }
  const buildSec = (performance.now() - started) / 1000;
  const composition = { smallFiles: { files: count, bytes } };
  const m: Marker = {
    version: DATASET_VERSION,
    seed,
    size: bytes,
    composition,
    files: count,
    bytes,
    binaryListSha256: '',
    builtAt: new Date().toISOString(),
    buildSec,
  };
  writeFileSync(marker, JSON.stringify(m, null, 2));
  log(`  built in ${buildSec.toFixed(1)} s`);
  return { name, dir, home, size: bytes, seed, composition, files: count, bytes, cached: false, buildSec };
}
