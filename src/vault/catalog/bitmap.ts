import { BadInputError, IntegrityError } from '../../errors/index.ts';

// A set of non-negative integers (a recovery point's pack sequence numbers) as one
// compact byte string. Two layouts, chosen per set by size:
//   0x01, then raw bits: member n is bit (n % 8) of byte n / 8; trailing zero bytes cut.
//   0x02, then runs: for each maximal range of consecutive members, two LEB128 varints:
//         the gap since the end of the previous range (or since 0), and length - 1.
// Dense sets with holes stay at one bit per pack; long ranges shrink to a few bytes;
// one huge member does not blow up the raw layout because runs win.

const RAW = 0x01;
const RUNS = 0x02;

/** A range of consecutive members: start, start + 1, ..., start + length - 1. */
type Run = { start: number; length: number };

export function encode(members: Iterable<number>): Uint8Array {
  return fromRuns(runsOfMembers(members));
}

/** Members in ascending order. */
export function decode(bitmap: Uint8Array): number[] {
  const out: number[] = [];
  for (const run of readRuns(bitmap)) {
    for (let n = run.start; n < run.start + run.length; n++) out.push(n);
  }
  return out;
}

export function has(bitmap: Uint8Array, member: number): boolean {
  if (!Number.isSafeInteger(member) || member < 0) return false;
  if (kindOf(bitmap) === RAW) {
    const byte = bitmap[1 + Math.floor(member / 8)];
    return byte !== undefined && (byte & (1 << (member % 8))) !== 0;
  }
  for (const run of readRuns(bitmap)) {
    if (member < run.start) return false;
    if (member < run.start + run.length) return true;
  }
  return false;
}

export function count(bitmap: Uint8Array): number {
  let total = 0;
  for (const run of readRuns(bitmap)) total += run.length;
  return total;
}

export function union(bitmaps: Iterable<Uint8Array>): Uint8Array {
  const all: Run[] = [];
  for (const bitmap of bitmaps) {
    for (const run of readRuns(bitmap)) all.push(run);
  }
  all.sort((a, b) => a.start - b.start);
  return fromRuns(mergeRuns(all));
}

function runsOfMembers(members: Iterable<number>): Run[] {
  const sorted = Array.from(members, checkMember).sort((a, b) => a - b);
  return mergeRuns(sorted.map((start) => ({ start, length: 1 })));
}

function checkMember(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new BadInputError('BAD_BITMAP_MEMBER', `bitmap member ${n} is not a non-negative integer`);
  }
  return n;
}

/** Joins overlapping and touching runs; the input is sorted by start. */
function mergeRuns(sorted: readonly Run[]): Run[] {
  const out: Run[] = [];
  for (const run of sorted) {
    const last = out.at(-1);
    if (last && run.start <= last.start + last.length) {
      last.length = Math.max(last.length, run.start + run.length - last.start);
    } else {
      out.push({ ...run });
    }
  }
  return out;
}

function fromRuns(runs: readonly Run[]): Uint8Array {
  const last = runs.at(-1);
  const rawSize = last ? Math.ceil((last.start + last.length) / 8) : 0;
  const varints = runsToVarints(runs);
  if (rawSize < varints.length) return writeRaw(runs, rawSize);
  const out = new Uint8Array(1 + varints.length);
  out[0] = RUNS;
  out.set(varints, 1);
  return out;
}

function runsToVarints(runs: readonly Run[]): number[] {
  const bytes: number[] = [];
  let end = 0;
  for (const run of runs) {
    writeVarint(bytes, run.start - end);
    writeVarint(bytes, run.length - 1);
    end = run.start + run.length;
  }
  return bytes;
}

function writeRaw(runs: readonly Run[], size: number): Uint8Array {
  const out = new Uint8Array(1 + size);
  out[0] = RAW;
  for (const run of runs) {
    for (let n = run.start; n < run.start + run.length; n++) {
      out[1 + Math.floor(n / 8)]! |= 1 << (n % 8);
    }
  }
  return out;
}

function readRuns(bitmap: Uint8Array): Run[] {
  const kind = kindOf(bitmap);
  return kind === RAW ? rawRuns(bitmap) : varintRuns(bitmap);
}

function kindOf(bitmap: Uint8Array): number {
  const kind = bitmap[0];
  if (kind !== RAW && kind !== RUNS) throw corrupt('unknown layout');
  return kind;
}

function rawRuns(bitmap: Uint8Array): Run[] {
  const runs: Run[] = [];
  let current: Run | undefined;
  for (let i = 1; i < bitmap.length; i++) {
    const byte = bitmap[i]!;
    for (let bit = 0; bit < 8; bit++) {
      const n = (i - 1) * 8 + bit;
      if ((byte & (1 << bit)) === 0) {
        current = undefined;
      } else if (current) {
        current.length++;
      } else {
        current = { start: n, length: 1 };
        runs.push(current);
      }
    }
  }
  return runs;
}

function varintRuns(bitmap: Uint8Array): Run[] {
  const runs: Run[] = [];
  const at = { offset: 1 };
  let end = 0;
  while (at.offset < bitmap.length) {
    const start = end + readVarint(bitmap, at);
    if (runs.length > 0 && start === end) throw corrupt('touching runs');
    const length = readVarint(bitmap, at) + 1;
    end = start + length;
    if (!Number.isSafeInteger(end)) throw corrupt('member too large');
    runs.push({ start, length });
  }
  return runs;
}

function writeVarint(out: number[], value: number): void {
  let n = value;
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

function readVarint(bytes: Uint8Array, at: { offset: number }): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = bytes[at.offset++];
    if (byte === undefined) throw corrupt('truncated number');
    value += (byte & 0x7f) * scale;
    if (!Number.isSafeInteger(value)) throw corrupt('number too large');
    if (byte < 0x80) return value;
    scale *= 0x80;
  }
}

function corrupt(what: string): IntegrityError {
  return new IntegrityError('CORRUPT_BITMAP', `pack bitmap is damaged (${what})`, {
    hint: 'rebuild the catalog from storage (offsite vault rebuild-catalog)',
  });
}
