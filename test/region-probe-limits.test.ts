// The probe's own rules, without a server: the median, the bounded test object, cleanup
// even when a read-back differs, a region that fails is reported and the others probed,
// and the per-server upload window.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NotFoundError } from '../src/errors/index.ts';
import {
  MAX_PROBE_BYTES,
  median,
  PINGS,
  type ProbeTransport,
  ProbeWindow,
  probeRegions,
} from '../src/vault/probe/index.ts';

function memoryTransport(options: { corrupt?: string; missing?: string } = {}) {
  const objects = new Map<string, Uint8Array>();
  const calls: string[] = [];
  const transport: ProbeTransport = {
    async ping(region) {
      calls.push(`ping ${region}`);
      if (region === options.missing) throw new NotFoundError('UNKNOWN_REGION', region);
    },
    async put(region, id, bytes) {
      calls.push(`put ${region} ${bytes.length}`);
      objects.set(`${region}/${id}`, bytes);
    },
    async get(region, id) {
      const bytes = objects.get(`${region}/${id}`)!;
      return region === options.corrupt ? bytes.map((b) => b ^ 1) : bytes;
    },
    async delete(region, id) {
      calls.push(`delete ${region}`);
      objects.delete(`${region}/${id}`);
    },
  };
  return { transport, objects, calls };
}

test('the median of odd and even counts', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('each region is pinged, written, read back and cleaned up; failures are named, not fatal', async () => {
  const { transport, objects, calls } = memoryTransport({ corrupt: 'bad', missing: 'gone' });
  let clock = 0;
  const regions = ['ok', 'bad', 'gone'].map((name) => ({ name, kind: 'file', role: null }));
  const results = await probeRegions(transport, regions, {
    bytes: 10 * MAX_PROBE_BYTES,
    now: () => (clock += 1),
  });
  assert.deepEqual(
    results.map((r) => [r.region, r.error, r.bytes]),
    [
      ['ok', null, MAX_PROBE_BYTES],
      ['bad', 'PROBE_MISMATCH', MAX_PROBE_BYTES],
      ['gone', 'UNKNOWN_REGION', MAX_PROBE_BYTES],
    ],
  );
  assert.equal(results[0]!.latencyMs, 1, 'each ping took one tick of the given clock');
  assert.ok(results[0]!.uploadBytesPerSecond! > 0);
  assert.equal(calls.filter((c) => c === 'ping ok').length, PINGS);
  assert.deepEqual(
    calls.filter((c) => c.startsWith('delete')),
    ['delete ok', 'delete bad'],
  );
  assert.equal(objects.size, 0, 'no test object is left, even after a mismatch');
});

test('a server may upload only so many probe objects per window', () => {
  const window = new ProbeWindow(2, 60_000);
  window.take('a', 0);
  window.take('a', 1);
  window.take('b', 1);
  assert.throws(() => window.take('a', 2), { code: 'PROBE_RATE_LIMITED' });
  window.take('a', 60_001);
});
