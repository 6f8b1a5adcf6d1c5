// Per-stage throughput of Offsite's backup and restore pipeline, each stage next to the raw
// node:crypto / node:zlib / node:fs primitive it is built on, so the slowest stage (and what
// Offsite adds on top of its primitive) is visible. Backup: read, chunk, hash, compress,
// encrypt, pack, write; restore: read, verify, decompress, write. Single-threaded, one
// stage at a time, on deterministic data (half text-like, half random) held in memory;
// files and packs go to a temporary directory that is removed at the end.
// Run: npm run bench:stages -- [--size 64MiB] [--seed TEXT]
import { createCipheriv, createDecipheriv, createHash, type Hash, type KeyObject } from 'node:crypto';
import { constants, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { constants as zlibConstants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { openForBackup } from '../src/repo/backup/file-saver.ts';
import { BLOB_DATA } from '../src/repo/blob-index.ts';
import { Chunker, chunkBuffer, chunkFile, DEFAULT_READ_SIZE, gearTable } from '../src/repo/chunker.ts';
import { compressSync, decompressSync } from '../src/repo/compress.ts';
import { fastKdfParams } from '../src/repo/crypto/kdf.ts';
import { type BlobHeader, openBlob, packKey, SEAL_OVERHEAD, sealBlob } from '../src/repo/crypto/seal.ts';
import { type FinishedPack, PACK_ENTRY_BYTES, PACK_PREFIX_BYTES, PackBuilder } from '../src/repo/pack.ts';
import { packName, Repository } from '../src/repo/repository.ts';
import { applyFileMetadata } from '../src/repo/restore/metadata.ts';
import { writeSparse } from '../src/repo/restore/sparse.ts';
import type { TreeNode } from '../src/repo/tree.ts';
import { FileStore } from '../src/storage/index.ts';
import { parseSize, sizeLabel } from './dataset.ts';
import { KeyStream, TEXT_FLAVORS, TextGen } from './generate.ts';
import { machineInfo, writeJson } from './report.ts';

const HELP = `usage: npm run bench:stages -- [options]

  --size SIZE   amount of test data (default 256MiB; e.g. 64MiB for a quick run)
  --seed TEXT   data seed (default offsite-stages-1)
`;

const KiB = 1024;
const MiB = 1024 * KiB;
const ROUNDS = 3;
const MIN_ROUND_MS = 100;
const RAW_ZSTD_LEVEL = 3;
const PASSPHRASE = 'offsite-bench-stages-not-secret';
const RESULTS_DIR = join(import.meta.dirname, 'results');

// ---------------------------------------------------------------------------------------
// Test data

interface DataFile {
  path: string;
  data: Buffer;
  text: boolean;
}

/** An endless byte stream made of `make()` pieces; each call returns the next `n` bytes as a copy. */
function byteSource(make: () => Buffer): (n: number) => Buffer {
  let pool: Buffer = Buffer.alloc(0);
  return (n) => {
    const parts: Buffer[] = [];
    for (let left = n; left > 0; left -= parts.at(-1)!.length) {
      if (pool.length === 0) pool = make();
      parts.push(pool.subarray(0, left));
      pool = pool.subarray(parts.at(-1)!.length);
    }
    return Buffer.concat(parts, n);
  };
}

/**
 * ~10 % of the bytes in small files (1–64 KiB) and ~40 % in files up to 8 MiB (the chunker's
 * max), which the engine reads in one go; ~50 % in larger files, which it streams.
 */
function fileSizes(total: number, rng: KeyStream): number[] {
  const sizes: number[] = [];
  const fill = (budget: number, lo: number, hi: number): void => {
    for (let left = budget; left > 0; left -= sizes.at(-1)!) sizes.push(Math.min(left, rng.logRange(lo, hi)));
  };
  const small = Math.floor(total * 0.1);
  const medium = Math.floor(total * 0.4);
  fill(small, KiB, 64 * KiB);
  fill(medium, 64 * KiB, 8 * MiB);
  fill(total - small - medium, 8 * MiB + 1, 40 * MiB);
  return sizes;
}

/** Deterministic files, text-like (zstd ≈ 3×) or random, balanced so each kind gets half the bytes. */
function generateFiles(total: number, seed: string, dir: string): DataFile[] {
  const rng = new KeyStream(seed);
  const gen = new TextGen(rng);
  const text = byteSource(() => gen.text(rng.pick(TEXT_FLAVORS), MiB));
  const random = byteSource(() => rng.bytes(MiB));
  let textBytes = 0;
  let randomBytes = 0;
  return fileSizes(total, rng).map((size, i) => {
    const isText = textBytes <= randomBytes;
    if (isText) textBytes += size;
    else randomBytes += size;
    const path = join(dir, `f${String(i).padStart(5, '0')}`);
    return { path, data: isText ? text(size) : random(size), text: isText };
  });
}

// ---------------------------------------------------------------------------------------
// The pipeline's intermediate products, made once with the engine's own functions

interface Blob {
  id: Buffer;
  plain: Buffer;
  /** What goes into the pack: the zstd frame, or `plain` when compression did not shrink it. */
  stored: Buffer;
  compressed: boolean;
  /** Where the blob sits: index in `packs`, offset and sealed length (incl. tag), sealed bytes. */
  pack: number;
  offset: number;
  length: number;
  sealed: Buffer;
  /** Nonce and AAD as the engine builds them, precomputed so the raw baseline times the cipher alone. */
  nonce: Buffer;
  aad: Buffer;
}

interface Pipeline {
  dir: string;
  files: DataFile[];
  logical: number;
  repo: Repository;
  chunks: Buffer[][];
  /** Distinct chunks in backup order (the engine stores a known id only once). */
  blobs: Blob[];
  /** Blobs per pack, split where a pack worker closes a pack (at ≥ packSize). */
  groups: Blob[][];
  packs: FinishedPack[];
  names: string[];
  keys: KeyObject[];
}

const EMPTY = Buffer.alloc(0);

function makeBlobs(repo: Repository, chunks: Buffer[][]): Blob[] {
  const seen = new Set<string>();
  const blobs: Blob[] = [];
  for (const plain of chunks.flat()) {
    const id = repo.blobId(plain);
    if (seen.has(id.toString('hex'))) continue;
    seen.add(id.toString('hex'));
    const packed = compressSync(plain, repo.config.compressionLevel);
    const stored = packed ?? plain;
    const at = { pack: -1, offset: 0, length: 0, sealed: EMPTY, nonce: EMPTY, aad: EMPTY };
    blobs.push({ id, plain, stored, compressed: packed !== null, ...at });
  }
  return blobs;
}

function groupForPacks(blobs: Blob[], packSize: number): Blob[][] {
  const groups: Blob[][] = [];
  let group: Blob[] = [];
  let size = PACK_PREFIX_BYTES;
  for (const blob of blobs) {
    group.push(blob);
    size += blob.stored.length + SEAL_OVERHEAD;
    if (size < packSize) continue;
    groups.push(group);
    group = [];
    size = PACK_PREFIX_BYTES;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** Exactly what a pack worker does per pack: PackBuilder add for each blob, then finish. */
function buildPack(encKey: Buffer, group: Blob[]): FinishedPack {
  const builder = new PackBuilder(encKey);
  for (const b of group) builder.add(BLOB_DATA, b.id, b.stored, b.compressed, b.plain.length);
  return builder.finish();
}

/** Records where each blob went, with the engine's nonce (offset, 48-bit BE) and AAD (type ‖ flag ‖ id). */
function placeBlobs(p: Pipeline): void {
  each(p.packs, (pack, i) => {
    p.groups[i]!.forEach((blob, j) => {
      const e = pack.entries[j]!;
      blob.pack = i;
      blob.offset = e.offset;
      blob.length = e.length;
      blob.sealed = pack.bytes.subarray(e.offset, e.offset + e.length);
      blob.nonce = Buffer.alloc(12);
      blob.nonce.writeUIntBE(e.offset, 6, 6);
      blob.aad = Buffer.concat([Buffer.from([BLOB_DATA, blob.compressed ? 1 : 0]), blob.id]);
    });
  });
}

async function preparePipeline(size: number, seed: string): Promise<Pipeline> {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-stages-'));
  for (const sub of ['src', 'repo', 'raw-packs', 'restore-offsite', 'restore-raw'])
    await mkdir(join(dir, sub));
  const files = generateFiles(size, seed, join(dir, 'src'));
  for (const f of files) writeFileSync(f.path, f.data);
  const repo = await Repository.init(new FileStore(join(dir, 'repo')), PASSPHRASE, { kdf: fastKdfParams() });
  const chunks = files.map((f) => [...chunkBuffer(f.data, repo.chunker)]);
  const blobs = makeBlobs(repo, chunks);
  const groups = groupForPacks(blobs, repo.config.packSize);
  const packs = groups.map((g) => buildPack(repo.keys.encKey, g));
  const names = packs.map((pack) => packName(pack.id));
  const keys = packs.map((pack) => packKey(repo.keys.encKey, pack.salt));
  const logical = files.reduce((n, f) => n + f.data.length, 0);
  const p = { dir, files, logical, repo, chunks, blobs, groups, packs, names, keys };
  placeBlobs(p);
  return p;
}

// ---------------------------------------------------------------------------------------
// Raw primitives

function gcmSeal(key: KeyObject, nonce: Buffer, aad: Buffer, data: Uint8Array): Buffer[] {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  return [cipher.update(data), cipher.final(), cipher.getAuthTag()];
}

function gcmOpen(key: KeyObject, nonce: Buffer, aad: Buffer, sealed: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - SEAL_OVERHEAD));
  return Buffer.concat([
    decipher.update(sealed.subarray(0, sealed.length - SEAL_OVERHEAD)),
    decipher.final(),
  ]);
}

const RAW_PREFIX = Buffer.alloc(PACK_PREFIX_BYTES);
const HEADER_NONCE = Buffer.alloc(12, 0xff);
const HEADER_AAD = Buffer.from('offsite v1 pack header');

function appendHashed(parts: Buffer[], hash: Hash, more: Buffer[]): void {
  for (const part of more) {
    parts.push(part);
    hash.update(part);
  }
}

/** A pack from the primitives PackBuilder uses: AES-GCM per blob and for the header, SHA-256, one concat. */
function rawPack(key: KeyObject, group: Blob[]): Buffer {
  const parts: Buffer[] = [];
  const hash = createHash('sha256');
  appendHashed(parts, hash, [RAW_PREFIX]);
  for (const b of group) appendHashed(parts, hash, gcmSeal(key, b.nonce, b.aad, b.stored));
  const entries = Buffer.alloc(4 + group.length * PACK_ENTRY_BYTES);
  const header = Buffer.concat(gcmSeal(key, HEADER_NONCE, HEADER_AAD, entries));
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32LE(header.length);
  appendHashed(parts, hash, [header, trailer]);
  hash.digest();
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------
// Engine read and restore-write paths that are not callable on their own

/** chunkFile with the boundary search replaced by cuts at `max`: its reads and copies, without FastCDC. */
class FixedCutChunker extends Chunker {
  override cut(_data: Uint8Array, start: number, end: number, final: boolean): number {
    const avail = end - start;
    if (avail >= this.max) return this.max;
    return final ? avail : -1;
  }
}

/** As file-saver.ts: open, chunkFile with the size lstat gave (small files are read in one go), close. */
async function readLikeBackup(file: DataFile, chunker: Chunker): Promise<void> {
  const handle = await openForBackup(file.path);
  try {
    for await (const _ of chunkFile(handle, chunker, undefined, file.data.length));
  } finally {
    await handle.close();
  }
}

// Mirrors the restorer (its createFile is private): the same syscalls per file.
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

function fileNode(size: number): TreeNode {
  const ns = '1700000000123456789';
  const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  return {
    name: Buffer.from('f'),
    type: 'file',
    mode: 0o644,
    ...owner,
    size,
    mtime: ns,
    ctime: ns,
    inode: '1',
    dev: '1',
    links: 1,
  };
}

/** One file as the restorer writes it: O_EXCL create, sparse writes per chunk, metadata on the descriptor. */
async function writeLikeRestore(path: Buffer, chunks: Buffer[], node: TreeNode): Promise<void> {
  const handle = await open(path, CREATE, 0o600);
  try {
    let position = 0;
    let endWritten = true;
    for (const chunk of chunks) {
      endWritten = await writeSparse(handle, chunk, position);
      position += chunk.length;
    }
    if (!endWritten) await handle.truncate(position);
    await applyFileMetadata(handle, path, node);
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------
// Stages

interface Contender {
  what: string;
  run: () => unknown;
  /** Undoes what a round left behind (untimed, before every round but the first). */
  reset?: () => unknown;
}

interface Stage {
  side: 'backup' | 'restore';
  stage: string;
  /** Bytes the stage itself consumes (for compress: plaintext; for encrypt: stored bytes). */
  inputBytes: number;
  offsite: Contender;
  raw: Contender;
}

const sum = (items: readonly { length: number }[]): number => items.reduce((n, x) => n + x.length, 0);

function backupStages(p: Pipeline): Stage[] {
  const { repo, files, blobs } = p;
  const plain = p.chunks.flat();
  const stored = blobs.map((b) => b.stored);
  const readChunker = new FixedCutChunker(gearTable(repo.keys.chunkerSecret), repo.config.chunker);
  const level = repo.config.compressionLevel;
  const rawZstd = { params: { [zlibConstants.ZSTD_c_compressionLevel]: RAW_ZSTD_LEVEL } };
  return [
    {
      side: 'backup',
      stage: 'read',
      inputBytes: p.logical,
      offsite: {
        what: `chunkFile (whole ≤ max, else ${DEFAULT_READ_SIZE / MiB} MiB preads), no cuts`,
        run: async () => {
          for (const f of files) await readLikeBackup(f, readChunker);
        },
      },
      raw: { what: 'readFileSync', run: () => each(files, (f) => readFileSync(f.path)) },
    },
    {
      side: 'backup',
      stage: 'chunk',
      inputBytes: p.logical,
      offsite: {
        what: 'chunkBuffer (FastCDC)',
        run: () => each(files, (f) => [...chunkBuffer(f.data, repo.chunker)]),
      },
      raw: { what: 'sha256 of the same bytes', run: () => each(files, (f) => sha256(f.data)) },
    },
    {
      side: 'backup',
      stage: 'hash',
      inputBytes: p.logical,
      offsite: { what: 'repo.blobId (HMAC-SHA256)', run: () => each(plain, (c) => repo.blobId(c)) },
      raw: { what: 'createHash sha256', run: () => each(plain, sha256) },
    },
    {
      side: 'backup',
      stage: 'compress',
      inputBytes: sum(blobs.map((b) => b.plain)),
      offsite: {
        what: `compressSync level ${level}`,
        run: () => each(blobs, (b) => compressSync(b.plain, level)),
      },
      raw: {
        what: `zstdCompressSync level ${RAW_ZSTD_LEVEL}`,
        run: () => each(blobs, (b) => zstdCompressSync(b.plain, rawZstd)),
      },
    },
    {
      side: 'backup',
      stage: 'encrypt',
      inputBytes: sum(stored),
      offsite: {
        what: 'sealBlob',
        run: () => each(blobs, (b) => sealBlob(p.keys[b.pack]!, header(b), b.stored)),
      },
      raw: {
        what: 'aes-256-gcm createCipheriv',
        run: () => each(blobs, (b) => gcmSeal(p.keys[b.pack]!, b.nonce, b.aad, b.stored)),
      },
    },
    {
      side: 'backup',
      stage: 'pack',
      inputBytes: sum(stored),
      offsite: {
        what: 'PackBuilder add + finish',
        run: () => p.groups.map((g) => buildPack(repo.keys.encKey, g)),
      },
      raw: { what: 'aes-gcm + sha256 + concat', run: () => p.groups.map((g, i) => rawPack(p.keys[i]!, g)) },
    },
    writeStage(p),
  ];
}

/** Calls `fn` for every item and drops its results (each stage's output is discarded). */
function each<T>(items: readonly T[], fn: (item: T, i: number) => unknown): void {
  for (let i = 0; i < items.length; i++) fn(items[i]!, i);
}

/** Built per call, as PackBuilder.add and Repository.loadBlob do. */
function header(b: Blob): BlobHeader {
  return { type: BLOB_DATA, compressed: b.compressed, id: b.id, offset: b.offset };
}

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

function writeStage(p: Pipeline): Stage {
  const store = p.repo.store;
  const rawPaths = p.packs.map((pack) => join(p.dir, 'raw-packs', pack.id.toString('hex')));
  return {
    side: 'backup',
    stage: 'write',
    inputBytes: sum(p.packs.map((pack) => pack.bytes)),
    offsite: {
      what: 'FileStore.put (tmp, fsync, link)',
      run: async () => {
        for (const [i, pack] of p.packs.entries()) await store.put(p.names[i]!, pack.bytes);
      },
      reset: async () => {
        for (const name of p.names) await store.delete(name);
      },
    },
    raw: {
      what: 'writeFileSync',
      run: () => each(p.packs, (pack, i) => writeFileSync(rawPaths[i]!, pack.bytes)),
      reset: () => each(rawPaths, (path) => rmSync(path)),
    },
  };
}

/** Needs the packs in the store: runs after the backup write stage, whose last round leaves them there. */
function restoreStages(p: Pipeline): Stage[] {
  const { repo, blobs } = p;
  const packed = blobs.filter((b) => b.compressed);
  const packPaths = p.names.map((name) => join(repo.store.location, name));
  return [
    {
      side: 'restore',
      stage: 'read',
      inputBytes: sum(p.packs.map((pack) => pack.bytes)),
      offsite: {
        what: 'FileStore.get, one range per pack',
        run: async () => {
          // As restore/contents.ts plans it: the span from the first to the last blob needed.
          for (const [pack, name] of p.names.entries()) {
            const inPack = blobs.filter((b) => b.pack === pack);
            if (inPack.length === 0) continue;
            const start = Math.min(...inPack.map((b) => b.offset));
            const end = Math.max(...inPack.map((b) => b.offset + b.length));
            await repo.store.get(name, { offset: start, length: end - start });
          }
        },
      },
      raw: {
        what: 'readFileSync of whole packs',
        run: () => each(packPaths, (path) => readFileSync(path)),
      },
    },
    {
      side: 'restore',
      stage: 'verify',
      inputBytes: sum(blobs.map((b) => b.sealed)),
      offsite: {
        what: 'openBlob',
        run: () => each(blobs, (b) => openBlob(p.keys[b.pack]!, header(b), b.sealed, p.names[b.pack]!)),
      },
      raw: {
        what: 'aes-256-gcm createDecipheriv',
        run: () => each(blobs, (b) => gcmOpen(p.keys[b.pack]!, b.nonce, b.aad, b.sealed)),
      },
    },
    {
      side: 'restore',
      stage: 'decompress',
      inputBytes: sum(packed.map((b) => b.stored)),
      offsite: {
        what: 'decompressSync (as restore workers do)',
        run: async () => {
          for (const b of packed) decompressSync(b.stored, b.plain.length, p.names[b.pack]!);
        },
      },
      raw: { what: 'zstdDecompressSync', run: () => each(packed, (b) => zstdDecompressSync(b.stored)) },
    },
    restoreWriteStage(p),
  ];
}

async function emptyDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  await mkdir(path);
}

function restoreWriteStage(p: Pipeline): Stage {
  const ours = join(p.dir, 'restore-offsite');
  const raw = join(p.dir, 'restore-raw');
  const targets = p.files.map((f, i) => ({
    ours: Buffer.from(join(ours, `f${i}`)),
    raw: join(raw, `f${i}`),
    node: fileNode(f.data.length),
    chunks: p.chunks[i]!,
  }));
  return {
    side: 'restore',
    stage: 'write',
    inputBytes: p.logical,
    offsite: {
      what: "restorer's create + sparse writes + metadata",
      run: async () => {
        for (const t of targets) await writeLikeRestore(t.ours, t.chunks, t.node);
      },
      reset: () => emptyDir(ours),
    },
    raw: {
      what: 'writeFileSync of whole files',
      run: () => each(p.files, (f, i) => writeFileSync(targets[i]!.raw, f.data)),
      reset: () => emptyDir(raw),
    },
  };
}

// ---------------------------------------------------------------------------------------
// Measuring and reporting

interface StageResult {
  side: Stage['side'];
  stage: string;
  offsite: string;
  raw: string;
  inputBytes: number;
  /** Best time of one run of the stage. */
  offsiteMs: number;
  rawMs: number;
  /** Data-set bytes per second (10^6 B/s): rows compare as stages of one pipeline. */
  offsiteMBs: number;
  rawMBs: number;
  ratio: number;
}

/**
 * Milliseconds per run in one round. A stage without a reset is repeated until the round
 * has taken MIN_ROUND_MS, so a stage of a few milliseconds is not mostly timer and GC noise.
 */
async function timeRound(c: Contender, round: number): Promise<number> {
  if (round > 0) await c.reset?.();
  let runs = 0;
  let elapsed = 0;
  const start = performance.now();
  do {
    await c.run();
    runs++;
    elapsed = performance.now() - start;
  } while (!c.reset && elapsed < MIN_ROUND_MS);
  return elapsed / runs;
}

/**
 * Best of ROUNDS each. Offsite and raw rounds alternate, and which goes first alternates
 * too, so drift in the machine and garbage collection after the other's round hit both alike.
 */
async function measure(s: Stage, logical: number): Promise<StageResult> {
  let offsiteMs = Number.POSITIVE_INFINITY;
  let rawMs = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 1) rawMs = Math.min(rawMs, await timeRound(s.raw, round));
    offsiteMs = Math.min(offsiteMs, await timeRound(s.offsite, round));
    if (round % 2 === 0) rawMs = Math.min(rawMs, await timeRound(s.raw, round));
  }
  const offsiteMBs = logical / 1e3 / offsiteMs;
  const rawMBs = logical / 1e3 / rawMs;
  const { side, stage, inputBytes } = s;
  const names = { offsite: s.offsite.what, raw: s.raw.what };
  return {
    side,
    stage,
    ...names,
    inputBytes,
    offsiteMs,
    rawMs,
    offsiteMBs,
    rawMBs,
    ratio: offsiteMBs / rawMBs,
  };
}

function slowest(results: StageResult[], side: StageResult['side']): StageResult {
  const own = results.filter((r) => r.side === side);
  return own.reduce((a, b) => (b.offsiteMBs < a.offsiteMBs ? b : a));
}

function formatTable(results: StageResult[]): string {
  const marked = new Set([slowest(results, 'backup'), slowest(results, 'restore')]);
  const header = [
    'side',
    'stage',
    'in MiB',
    'Offsite MB/s',
    'raw MB/s',
    'ratio',
    '',
    'Offsite vs raw primitive',
  ];
  const rows = results.map((r) => [
    r.side,
    r.stage,
    (r.inputBytes / MiB).toFixed(1),
    r.offsiteMBs.toFixed(0),
    r.rawMBs.toFixed(0),
    r.ratio.toFixed(2),
    marked.has(r) ? '◀ slowest' : '',
    `${r.offsite} vs ${r.raw}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const right = new Set([2, 3, 4, 5]);
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function describeData(p: Pipeline) {
  const text = p.files.filter((f) => f.text);
  return {
    files: p.files.length,
    bytes: p.logical,
    textBytes: sum(text.map((f) => f.data)),
    randomBytes: p.logical - sum(text.map((f) => f.data)),
    chunks: p.chunks.flat().length,
    blobs: p.blobs.length,
    compressedBlobs: p.blobs.filter((b) => b.compressed).length,
    storedBytes: sum(p.blobs.map((b) => b.stored)),
    packs: p.packs.length,
    packBytes: sum(p.packs.map((pack) => pack.bytes)),
    compressionLevel: p.repo.config.compressionLevel,
  };
}

function parse(): { size: number; seed: string } {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '256MiB' },
      seed: { type: 'string', default: 'offsite-stages-1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const size = parseSize(values.size);
  if (size < 1) throw new Error('--size must be at least 1 byte');
  return { size, seed: values.seed };
}

async function runStages(p: Pipeline): Promise<StageResult[]> {
  const results: StageResult[] = [];
  // Built lazily: the restore stages read the packs the backup write stage left in the store.
  for (const make of [backupStages, restoreStages]) {
    for (const stage of make(p)) {
      process.stderr.write(`  ${stage.side} ${stage.stage}…\n`);
      results.push(await measure(stage, p.logical));
    }
  }
  return results;
}

async function main(): Promise<void> {
  const { size, seed } = parse();
  const startedAt = new Date();
  process.stderr.write(`preparing ${sizeLabel(size)} of test data…\n`);
  const p = await preparePipeline(size, seed);
  try {
    const results = await runStages(p);
    const data = describeData(p);
    const text = Math.round((100 * data.textBytes) / data.bytes);
    console.log(
      `\nOffsite pipeline stages: ${sizeLabel(size)}, ${data.files} files (${text} % text, ${100 - text} % random),` +
        ` ${data.blobs} blobs, ${data.packs} packs; best of ${ROUNDS}, one thread, warm page cache`,
    );
    console.log('MB/s = data-set bytes / time (10^6 B/s), so rows compare as stages of one pipeline\n');
    console.log(formatTable(results));
    console.log('ratio = Offsite / raw (below 1: Offsite is slower than its primitive)');
    console.log('◀ = the slowest Offsite stage of its side; in MiB = what the stage itself consumes');
    const machine = await machineInfo(p.dir);
    const slow = { backup: slowest(results, 'backup').stage, restore: slowest(results, 'restore').stage };
    const report = {
      benchmark: 'stages',
      startedAt,
      size,
      seed,
      rounds: ROUNDS,
      data,
      slowest: slow,
      machine,
    };
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    const path = await writeJson(RESULTS_DIR, `stages-${stamp}`, { ...report, stages: results });
    console.log(`\nfigures: ${path}`);
  } finally {
    await rm(p.dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();
