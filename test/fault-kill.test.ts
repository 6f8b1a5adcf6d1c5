// The vault server SIGKILLed at seeded random moments during backup runs (30 by default,
// OFFSITE_FAULT_RUNS=N for more) and restarted each time: the agent's next run resumes
// (it uploads what was missing plus at most about one pack, never the whole data set
// again), no partial object is ever visible in the region, and at the end every
// committed recovery point restores byte for byte.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../src/storage/index.ts';
import { lastJson, tempDir } from './helpers/cli.ts';
import { FAULT_PASSPHRASE, ok, packBytes, partialObjects, startFaultVault } from './helpers/fault-vault.ts';
import { type ExpectedPoint, manifestOf, restoreEach } from './helpers/fault-verify.ts';

const RUNS = Number(process.env.OFFSITE_FAULT_RUNS ?? 30);
const SEED = Number(process.env.OFFSITE_FAULT_SEED ?? 20261122);
const KiB = 1024;
const PACK_SIZE = 512 * KiB;
const NEW_PER_RUN = 4 * 1024 * KiB;

/** mulberry32: the same seed gives the same kill moments. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A run killed after its snapshot was saved but before its point was committed fails, and
 * the agent commits that point at the start of its next run (src/agent/pending-points.ts):
 * so the vault may list more points than runs that succeeded. Such a point holds what its
 * run saw, which is what the next run (that committed it) backed up too: no data changes
 * between a failed run and its retry. Every listed point is returned, each with its manifest.
 */
function withDeferredCommits(
  known: readonly ExpectedPoint[],
  listed: readonly { snapshot: string; time: string }[],
): ExpectedPoint[] {
  const byId = new Map(known.map((p) => [p.snapshotId, p]));
  const sorted = [...listed].sort((a, b) => a.time.localeCompare(b.time));
  const out: ExpectedPoint[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const id = sorted[i]!.snapshot.split('/').at(-1)!;
    const next = sorted.slice(i).find((p) => byId.has(p.snapshot.split('/').at(-1)!));
    const model = byId.get(id) ?? (next ? byId.get(next.snapshot.split('/').at(-1)!) : undefined);
    assert.ok(model, `point ${id} belongs to a run`);
    out.push({ ...model, snapshotId: id });
  }
  for (const p of known)
    assert.ok(
      out.some((o) => o.snapshotId === p.snapshotId),
      `${p.snapshotId} is listed`,
    );
  return out;
}

test(`the vault server SIGKILLed during ${RUNS} backup runs loses nothing committed`, {
  timeout: 30 * 60_000,
}, async (t) => {
  const dir = await tempDir(t, 'offsite-fault-kill-');
  const v = await startFaultVault(t, dir, { packSize: PACK_SIZE });
  const region = openStore(v.regionUrl);
  const src = join(dir, 'src');
  await mkdir(src);
  const random = seeded(SEED);
  const points: ExpectedPoint[] = [];
  let selfResumed = 0;
  let failedRuns = 0;
  /** For each run the next run had to finish: bytes the killed run had stored. */
  const resumed: number[] = [];
  let worstOverhead = 0;
  for (let run = 0; run < RUNS; run++) {
    // Fresh incompressible data each run, so stored bytes ≈ new bytes.
    for (let f = 0; f < 4; f++) await writeFile(join(src, `r${run}-f${f}`), randomBytes(NEW_PER_RUN / 4));
    const before = await packBytes(region);
    const backup = v.backup([src]);
    // A quarter of the kills land early (start-up, index, session), the rest while packs upload.
    if (random() < 0.25) await sleep(100 + Math.floor(random() * 600));
    else {
      for (let i = 0; i < 500 && (await packBytes(region)) === before; i++) await sleep(10);
      await sleep(Math.floor(random() * 500));
    }
    await v.kill();
    // Half the outages are short (the agent's retries ride them out), half last until the
    // agent has given up (so its next run must resume).
    const long = random() < 0.5;
    const first = long ? await backup : undefined;
    await sleep(Math.floor(random() * 300));
    await v.restart();
    let done = first ?? (await backup);
    if (process.env.OFFSITE_FAULT_VERBOSE)
      t.diagnostic(`run ${run}: long=${long} code=${done.code} ${done.stderr.trim().split('\n').at(-1)}`);
    if (done.code === 0) {
      selfResumed++;
      const uploaded = (await packBytes(region)) - before;
      assert.ok(uploaded <= NEW_PER_RUN + PACK_SIZE + 64 * KiB, `run ${run}: uploaded ${uploaded} bytes`);
    } else {
      failedRuns++;
      assert.match(done.stderr, /vault|server|connect|reach|unavailable/i, `run ${run}: a clear error`);
      const afterKill = await packBytes(region);
      done = await v.backup([src]);
      assert.equal(done.code, 0, `run ${run}: the next backup completes: ${done.stderr}`);
      const uploaded = (await packBytes(region)) - afterKill;
      const missing = Math.max(0, NEW_PER_RUN - (afterKill - before));
      worstOverhead = Math.max(worstOverhead, uploaded - missing);
      assert.ok(
        uploaded - missing <= PACK_SIZE + 64 * KiB,
        `run ${run}: resumed with ${uploaded} bytes when ${missing} were missing (not a full re-upload)`,
      );
      resumed.push(afterKill - before);
    }
    const answer = lastJson(done);
    assert.ok(answer.point?.id, `run ${run}: a recovery point was committed`);
    points.push({ snapshotId: answer.id, root: src, manifest: await manifestOf(src) });
  }
  t.diagnostic(`${RUNS} runs, seed ${SEED}: ${selfResumed} finished on their own within the agent's retries`);
  t.diagnostic(
    `resumed by the next run: ${resumed.length}, having kept ${resumed.map((b) => `${b >> 10} KiB`).join(', ')}`,
  );
  // Half the outages outlast the agent's retries: with 10 runs or more some run must fail.
  if (RUNS >= 10) assert.ok(resumed.length > 0, 'some runs failed and were resumed by the next run');
  t.diagnostic(`worst re-upload beyond the missing data: ${worstOverhead} bytes (a pack is ${PACK_SIZE})`);

  const { bad, checked } = await partialObjects(v.regionUrl);
  assert.deepEqual(bad, [], 'every object in the region hashes to its name');
  assert.ok(checked > RUNS, `objects were checked (${checked})`);
  const listed = await ok(['vault', 'points', 'prod'], v.admin);
  const all = withDeferredCommits(points, listed.points);
  t.diagnostic(
    `${listed.points.length} points listed; ${all.length - points.length} committed by the next run`,
  );
  assert.ok(all.length - points.length <= failedRuns, 'an extra point only for a run whose answer was lost');
  assert.deepEqual(await restoreEach(v.agent, FAULT_PASSPHRASE, all), []);
  await ok(['check', '--read-data'], v.agent);
});
