import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OffsiteError } from '../../src/errors/index.ts';

// Shared by the fuzz tests of test/fuzz: how many runs, what "refused properly" means,
// and the mutations applied to valid inputs. See test/fuzz/README.md.

/** Runs per property: a fixed budget in CI, more on demand with OFFSITE_FUZZ_RUNS=N. */
export const RUNS = runsFromEnv(process.env.OFFSITE_FUZZ_RUNS, 300);

/** A single call slower than this is a hang (a loose bound, not a timing assertion). */
const HANG_MS = 2_000;

/** Memory a single call may leave allocated beyond a multiple of its input. */
const ALLOCATION_SLACK = 64 * 1024 * 1024;

function runsFromEnv(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

/** fast-check parameters for every property: the budget, and a seed printed on failure. */
export function params(runs = RUNS): fc.Parameters<unknown> {
  return { numRuns: runs };
}

/** Per-test timeout for node:test: generous, scaled with the budget. */
export function testTimeout(runs = RUNS): number {
  return 60_000 + runs * 200;
}

function allocated(): number {
  const m = process.memoryUsage();
  return m.arrayBuffers + m.heapUsed;
}

function checkOutcome(error: unknown, codes: readonly string[] | undefined, what: string): void {
  if (error === undefined) return;
  if (!(error instanceof OffsiteError)) {
    const name = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    assert.fail(`${what} threw a non-Offsite error: ${name}`);
  }
  assert.match(error.code, /^[A-Z][A-Z0-9_]*$/, `${what}: error code ${error.code} is not UPPER_SNAKE`);
  if (codes)
    assert.ok(codes.includes(error.code), `${what}: unexpected code ${error.code} (${error.message})`);
}

function checkCost(started: number, before: number, inputBytes: number, what: string): void {
  const ms = performance.now() - started;
  assert.ok(ms < HANG_MS, `${what} took ${Math.round(ms)} ms: a hang`);
  const grown = allocated() - before;
  const limit = ALLOCATION_SLACK + 64 * inputBytes;
  assert.ok(grown < limit, `${what} left ${grown} bytes allocated for a ${inputBytes}-byte input`);
}

/**
 * Calls a synchronous parser: it must return or throw an OffsiteError (with one of
 * `codes`, when given), within the hang bound and without allocating far beyond its input.
 */
export function refusesCleanly<T>(
  what: string,
  inputBytes: number,
  parse: () => T,
  codes?: readonly string[],
): T | undefined {
  const before = allocated();
  const started = performance.now();
  let result: T | undefined;
  let error: unknown;
  try {
    result = parse();
  } catch (err) {
    error = err;
  }
  checkCost(started, before, inputBytes, what);
  checkOutcome(error, codes, what);
  return result;
}

/** The same for an asynchronous parser. */
export async function refusesCleanlyAsync<T>(
  what: string,
  inputBytes: number,
  parse: () => Promise<T>,
  codes?: readonly string[],
): Promise<T | undefined> {
  const before = allocated();
  const started = performance.now();
  let result: T | undefined;
  let error: unknown;
  try {
    result = await parse();
  } catch (err) {
    error = err;
  }
  checkCost(started, before, inputBytes, what);
  checkOutcome(error, codes, what);
  return result;
}

/** Arbitrary bytes, biased towards short inputs but reaching a few KiB. */
export const anyBytes = fc
  .uint8Array({ minLength: 0, maxLength: 4096, size: 'medium' })
  .map((a) => Buffer.from(a));

type Mutation = (b: Buffer) => Buffer;

/** One mutation of a valid input: a bit flip, truncation, extension or a huge u32. */
function mutation(): fc.Arbitrary<Mutation> {
  const at = fc.nat();
  return fc.oneof(
    fc.tuple(at, fc.integer({ min: 0, max: 7 })).map(
      ([i, bit]): Mutation =>
        (b) => {
          if (b.length === 0) return b;
          const out = Buffer.from(b);
          out[i % b.length]! ^= 1 << bit;
          return out;
        },
    ),
    at.map(
      (i): Mutation =>
        (b) =>
          b.subarray(0, i % (b.length + 1)),
    ),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map(
      (extra): Mutation =>
        (b) =>
          Buffer.concat([b, extra]),
    ),
    fc.tuple(at, fc.constantFrom(0xffffffff, 0x7fffffff, 0x10000000, 0x00ffffff)).map(
      ([i, value]): Mutation =>
        (b) => {
          if (b.length < 4) return b;
          const out = Buffer.from(b);
          out.writeUInt32LE(value, i % (b.length - 3));
          return out;
        },
    ),
  );
}

/** A valid input from `valid`, mutated one to four times. */
export function mutated(valid: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc
    .tuple(valid, fc.array(mutation(), { minLength: 1, maxLength: 4 }))
    .map(([b, ms]) => ms.reduce((acc, m) => m(acc), b));
}

/** Arbitrary JSON values, including the odd shapes parsers forget (null, arrays, numbers). */
export const anyJson = fc.jsonValue({ maxDepth: 4 });

/** An object with some of `keys` set to arbitrary JSON values, and maybe a stray key. */
export function objectWithSome(keys: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const key of keys) model[key] = anyJson;
  return fc.record(model, { requiredKeys: [] });
}

/** UTF-8 bytes of arbitrary JSON text, or arbitrary text: what a JSON parser is fed. */
export const jsonishBytes = fc
  .oneof(
    anyJson.map((v) => JSON.stringify(v)),
    fc.string({ unit: 'binary', maxLength: 200 }),
  )
  .map((s) => Buffer.from(s, 'utf8'));

export { fc };
