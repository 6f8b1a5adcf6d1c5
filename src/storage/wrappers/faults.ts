import { BadInputError, OffsiteError, TransientError } from '../../errors/index.ts';
import type { BlobStore, ByteRange, ListedObject, ObjectInfo } from '../types.ts';

/**
 * - fail-transient: throws TransientError INJECTED_FAULT before doing the operation.
 * - fail-after (put and delete): does the operation, then throws TransientError
 *   INJECTED_FAULT, as a request that timed out after the server had done it. If the
 *   operation itself fails, its own error is thrown and nothing is injected.
 * - fail-permanent: throws OffsiteError kind internal INJECTED_PERMANENT before doing it.
 * - delay: waits `delayMs`, then does the operation.
 * - truncate (get only): returns a strict prefix of the bytes.
 * - corrupt (get only): returns the bytes with one bit flipped.
 */
export type FaultKind = 'fail-transient' | 'fail-after' | 'fail-permanent' | 'delay' | 'truncate' | 'corrupt';

export type FaultOp = 'put' | 'get' | 'head' | 'list' | 'delete';

export const FAULT_KINDS: readonly FaultKind[] = [
  'fail-transient',
  'fail-after',
  'fail-permanent',
  'delay',
  'truncate',
  'corrupt',
];

const FAULT_OPS: readonly FaultOp[] = ['put', 'get', 'head', 'list', 'delete'];

/** The operations each kind can apply to. */
const APPLIES_TO: Readonly<Record<FaultKind, readonly FaultOp[]>> = {
  'fail-transient': FAULT_OPS,
  'fail-after': ['put', 'delete'],
  'fail-permanent': FAULT_OPS,
  delay: FAULT_OPS,
  truncate: ['get'],
  corrupt: ['get'],
};

/** A fault drawn for one call: its kind, and where in the result truncate and corrupt strike (0..1). */
interface Fault {
  kind: FaultKind;
  at: number;
}

export interface FaultOptions {
  /** Probability in [0, 1] that an eligible operation gets a fault. */
  rate: number;
  /** Kinds to choose from, uniformly among those that apply to the operation. */
  kinds: readonly FaultKind[];
  /** Operations eligible for faults (default: all). */
  ops?: readonly FaultOp[];
  /** Seed of the pseudo-random sequence (default 1): same seed, same calls, same faults. */
  seed?: number;
  /** Wait of the delay kind (default 10 ms). */
  delayMs?: number;
  /** Further filter: only operations for which this returns true are eligible (list passes its prefix). */
  only?: (op: FaultOp, name: string) => boolean;
  /** Waits for the delay kind (default: a timer). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A deterministic fault injector for tests. For each eligible operation (see `ops` and
 * `only`) it draws from a seeded generator: with probability `rate` it picks one of the
 * `kinds` that apply to that operation and injects it; if none applies, or the fault
 * cannot be applied (truncating or corrupting an empty result), nothing happens and
 * nothing is counted. `injected` counts the faults actually injected, by kind.
 *
 * The draw happens when the method is called (for list: when list() is called, not
 * when iteration starts), so the same sequence of calls gets the same faults. List
 * faults strike before the first object, never in the middle of a listing.
 */
export class FaultStore implements BlobStore {
  readonly location: string;
  readonly #inner: BlobStore;
  readonly #rate: number;
  readonly #kinds: readonly FaultKind[];
  readonly #ops: ReadonlySet<FaultOp>;
  readonly #only: ((op: FaultOp, name: string) => boolean) | undefined;
  readonly #delayMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #counts: Record<FaultKind, number> = zeroCounts();

  constructor(inner: BlobStore, options: FaultOptions) {
    const { rate, kinds, ops = FAULT_OPS, seed = 1, delayMs = 10 } = options;
    if (!(rate >= 0 && rate <= 1)) bad(`rate must be a number from 0 to 1, got ${rate}`);
    for (const kind of kinds) if (!FAULT_KINDS.includes(kind)) bad(`unknown fault kind "${kind}"`);
    for (const op of ops) if (!FAULT_OPS.includes(op)) bad(`unknown operation "${op}"`);
    if (rate > 0 && kinds.length === 0) bad('a rate above 0 needs at least one fault kind');
    if (!Number.isSafeInteger(seed)) bad(`seed must be a whole number, got ${seed}`);
    if (!Number.isFinite(delayMs) || delayMs < 0) bad(`delayMs must be a number of ms ≥ 0, got ${delayMs}`);
    this.location = inner.location;
    this.#inner = inner;
    this.#rate = rate;
    this.#kinds = [...kinds];
    this.#ops = new Set(ops);
    this.#only = options.only;
    this.#delayMs = delayMs;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = mulberry32(seed);
  }

  /** Faults injected so far, by kind (a copy). */
  get injected(): Readonly<Record<FaultKind, number>> {
    return { ...this.#counts };
  }

  /** Faults injected so far, all kinds together. */
  get injectedTotal(): number {
    return Object.values(this.#counts).reduce((sum, n) => sum + n, 0);
  }

  put(name: string, data: Uint8Array): Promise<void> {
    return this.#apply('put', name, this.#draw('put', name), () => this.#inner.put(name, data));
  }

  async get(name: string, range?: ByteRange): Promise<Buffer> {
    const fault = this.#draw('get', name);
    const bytes = await this.#apply('get', name, fault, () => this.#inner.get(name, range));
    if (fault?.kind === 'truncate' && bytes.length > 0) {
      this.#counts.truncate++;
      return Buffer.from(bytes.subarray(0, Math.floor(fault.at * bytes.length)));
    }
    if (fault?.kind === 'corrupt' && bytes.length > 0) {
      this.#counts.corrupt++;
      const copy = Buffer.from(bytes);
      const bit = Math.floor(fault.at * copy.length * 8);
      copy[bit >> 3]! ^= 1 << (bit & 7);
      return copy;
    }
    return bytes;
  }

  head(name: string): Promise<ObjectInfo | null> {
    return this.#apply('head', name, this.#draw('head', name), () => this.#inner.head(name));
  }

  delete(name: string): Promise<void> {
    return this.#apply('delete', name, this.#draw('delete', name), () => this.#inner.delete(name));
  }

  list(prefix: string): AsyncIterable<ListedObject> {
    return this.#list(prefix, this.#draw('list', prefix));
  }

  async *#list(prefix: string, fault: Fault | undefined): AsyncIterable<ListedObject> {
    await this.#before('list', prefix, fault);
    yield* this.#inner.list(prefix);
  }

  /**
   * The fault for this call, or undefined. Everything random about it is drawn here, when
   * the call is made, so concurrent calls cannot reorder the draws.
   */
  #draw(op: FaultOp, name: string): Fault | undefined {
    if (this.#rate === 0 || !this.#ops.has(op) || (this.#only !== undefined && !this.#only(op, name))) {
      return undefined;
    }
    if (this.#random() >= this.#rate) return undefined;
    const applicable = this.#kinds.filter((kind) => APPLIES_TO[kind].includes(op));
    if (applicable.length === 0) return undefined;
    const kind = applicable[Math.floor(this.#random() * applicable.length)]!;
    return { kind, at: this.#random() };
  }

  /** Injects the faults that act around the operation (truncate and corrupt act on its result). */
  async #apply<T>(op: FaultOp, name: string, fault: Fault | undefined, run: () => Promise<T>): Promise<T> {
    await this.#before(op, name, fault);
    const result = await run();
    if (fault?.kind === 'fail-after') {
      this.#counts['fail-after']++;
      throw new TransientError('INJECTED_FAULT', `injected fault after ${op} ${name} in ${this.location}`);
    }
    return result;
  }

  async #before(op: FaultOp, name: string, fault: Fault | undefined): Promise<void> {
    const what = `${op} ${name === '' ? '(all)' : name} in ${this.location}`;
    switch (fault?.kind) {
      case 'fail-transient':
        this.#counts['fail-transient']++;
        throw new TransientError('INJECTED_FAULT', `injected fault before ${what}`);
      case 'fail-permanent':
        this.#counts['fail-permanent']++;
        throw new OffsiteError('internal', 'INJECTED_PERMANENT', `injected permanent fault in ${what}`);
      case 'delay':
        this.#counts.delay++;
        await this.#sleep(this.#delayMs);
        return;
      default:
        return;
    }
  }
}

function bad(message: string): never {
  throw new BadInputError('BAD_FAULT_OPTIONS', message);
}

function zeroCounts(): Record<FaultKind, number> {
  return {
    'fail-transient': 0,
    'fail-after': 0,
    'fail-permanent': 0,
    delay: 0,
    truncate: 0,
    corrupt: 0,
  };
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A small, fast, seedable generator of numbers in [0, 1) (Mulberry32). Not for secrets. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
