import { randomInt } from 'node:crypto';
import { BadInputError } from '../errors/index.ts';

/**
 * `check --read-data-subset`: which packs to read. `P%` picks P percent of the packs at
 * random (at least one when P > 0); `n/m` picks the packs in group n of m, groups fixed by
 * pack id (its first 4 bytes, big-endian, modulo m), so runs 1/m … m/m together read
 * every pack exactly once, whatever the order and however far apart in time they run.
 */
export type PackSubset = { kind: 'percent'; percent: number } | { kind: 'group'; n: number; m: number };

const PERCENT = /^(\d+(?:\.\d+)?)%$/;
const GROUP = /^(\d+)\/(\d+)$/;

function bad(text: string, why: string): BadInputError {
  return new BadInputError('BAD_SUBSET', `--read-data-subset "${text}": ${why}`, {
    hint: 'give a percentage such as 5% (random packs) or n/m such as 1/10 (group n of m, 1 ≤ n ≤ m)',
  });
}

export function parseSubset(text: string): PackSubset {
  const percent = PERCENT.exec(text);
  if (percent) {
    const value = Number(percent[1]);
    if (!(value > 0 && value <= 100)) throw bad(text, 'the percentage must be above 0 and at most 100');
    return { kind: 'percent', percent: value };
  }
  const group = GROUP.exec(text);
  if (group) {
    const [n, m] = [Number(group[1]), Number(group[2])];
    if (!Number.isSafeInteger(m) || m < 1) throw bad(text, 'the number of groups must be at least 1');
    if (!Number.isSafeInteger(n) || n < 1 || n > m) throw bad(text, `the group must be between 1 and ${m}`);
    return { kind: 'group', n, m };
  }
  throw bad(text, 'not a percentage (5%) or a group (1/10)');
}

export function describeSubset(subset: PackSubset): string {
  return subset.kind === 'percent' ? `${subset.percent}%` : `${subset.n}/${subset.m}`;
}

/** The group (1…m) a pack belongs to, from its hex id. */
export function packGroup(packHex: string, m: number): number {
  return (Number.parseInt(packHex.slice(0, 8), 16) % m) + 1;
}

/**
 * The packs (hex ids) to read. `random(n)` returns an integer in [0, n); injected so
 * tests can fix the choice.
 */
export function selectPacks(
  ids: readonly string[],
  subset: PackSubset | undefined,
  random: (n: number) => number = randomInt,
): string[] {
  if (!subset) return [...ids];
  if (subset.kind === 'group') return ids.filter((id) => packGroup(id, subset.m) === subset.n);
  const want = Math.min(ids.length, Math.ceil((ids.length * subset.percent) / 100));
  const pool = [...ids];
  // Partial Fisher–Yates: the first `want` places get a uniform random sample.
  for (let i = 0; i < want; i++) {
    const j = i + random(pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, want);
}
