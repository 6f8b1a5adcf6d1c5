// Fuzzes sealed files (docs/design.md §3, §5): the outer layer refuses arbitrary and
// mutated files by header or authentication, and the inner decoders (index, snapshot,
// config) refuse arbitrary and mutated plaintext — a compromised key holder could seal
// anything, so they must stand on their own.
// Budget: RUNS per property (300); OFFSITE_FUZZ_RUNS=N runs N instead.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeConfig, newConfig } from '../../src/repo/config.ts';
import { type FileType, openFile, sealFile } from '../../src/repo/crypto/seal.ts';
import { decodeIndex, encodeIndex, type IndexFile } from '../../src/repo/index-file.ts';
import { decodeSnapshot } from '../../src/repo/snapshot.ts';
import {
  anyBytes,
  anyJson,
  fc,
  jsonishBytes,
  mutated,
  objectWithSome,
  params,
  refusesCleanly,
  testTimeout,
} from './harness.ts';

const encKey = randomBytes(32);
const FILE_TYPES: FileType[] = ['config', 'index', 'snapshot', 'session', 'gc', 'lock'];

const entry = fc.record({
  type: fc.constantFrom(0, 1),
  compressed: fc.boolean(),
  id: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((a) => Buffer.from(a)),
  offset: fc.nat(),
  length: fc.nat(),
  rawLength: fc.nat(),
});
const id32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((a) => Buffer.from(a));
const validIndex: fc.Arbitrary<Buffer> = fc
  .record({
    supersedes: fc.array(id32, { maxLength: 3 }),
    packs: fc.array(fc.record({ id: id32, salt: id32, entries: fc.array(entry, { maxLength: 5 }) }), {
      maxLength: 4,
    }),
  })
  .map((index: IndexFile) => encodeIndex(index));

const SNAPSHOT_KEYS = ['version', 'time', 'tree', 'paths', 'hostname', 'username', 'tags', 'parent', 'stats'];
const validSnapshot = fc
  .record({
    time: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    tree: id32.map((b) => b.toString('hex')),
    paths: fc.array(fc.string()),
    tags: fc.array(fc.string()),
  })
  .map((s) => Buffer.from(JSON.stringify({ version: 1, hostname: 'h', username: 'u', stats: {}, ...s })));

describe('fuzz: sealed files', () => {
  it('openFile refuses arbitrary bytes by header or authentication', { timeout: testTimeout() }, () => {
    fc.assert(
      fc.property(anyBytes, fc.constantFrom(...FILE_TYPES), (bytes, type) => {
        refusesCleanly('openFile', bytes.length, () => openFile(encKey, type, bytes, 'x'), [
          'CORRUPT_OBJECT',
          'AUTH_FAILED',
        ]);
      }),
      params(),
    );
  });

  it('openFile refuses every mutation of a sealed file', { timeout: testTimeout() }, () => {
    const sealed = fc
      .tuple(fc.constantFrom(...FILE_TYPES), fc.uint8Array({ maxLength: 300 }))
      .map(([type, body]) => ({ type, bytes: sealFile(encKey, type, body), body: Buffer.from(body) }));
    fc.assert(
      fc.property(sealed, ({ type, bytes, body }) => {
        assert.deepEqual(openFile(encKey, type, bytes, 'x'), body);
      }),
      params(50),
    );
    fc.assert(
      fc.property(
        sealed.chain(({ type, bytes, body }) => mutated(fc.constant(bytes)).map((m) => ({ type, m, body }))),
        ({ type, m, body }) => {
          const opened = refusesCleanly('openFile', m.length, () => openFile(encKey, type, m, 'x'), [
            'CORRUPT_OBJECT',
            'AUTH_FAILED',
          ]);
          // A mutation that left the bytes as they were may open; any other must not.
          if (opened) assert.deepEqual(opened, body);
        },
      ),
      params(),
    );
  });

  it('decodeIndex refuses arbitrary and mutated plaintext with CORRUPT_INDEX', {
    timeout: testTimeout(),
  }, () => {
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutated(validIndex)), (bytes) => {
        refusesCleanly('decodeIndex', bytes.length, () => decodeIndex(bytes, 'index/x'), ['CORRUPT_INDEX']);
      }),
      params(),
    );
  });

  it('decodeIndex round-trips valid index files', { timeout: testTimeout() }, () => {
    fc.assert(
      fc.property(validIndex, (bytes) => {
        assert.deepEqual(encodeIndex(decodeIndex(bytes, 'index/x')), bytes);
      }),
      params(100),
    );
  });

  it('decodeIndex refuses huge counts before allocating for them', () => {
    for (const count of [0xffffffff, 0x7fffffff, 0x10000000]) {
      const superseded = Buffer.concat([Buffer.from('OFSI\x01'), u32(count), u32(0)]);
      const packs = Buffer.concat([Buffer.from('OFSI\x01'), u32(0), u32(count), Buffer.alloc(68)]);
      const entries = Buffer.concat([Buffer.from('OFSI\x01'), u32(0), u32(1), Buffer.alloc(64), u32(count)]);
      for (const bytes of [superseded, packs, entries]) {
        refusesCleanly('decodeIndex', bytes.length, () => decodeIndex(bytes, 'index/x'), ['CORRUPT_INDEX']);
        assert.throws(() => decodeIndex(bytes, 'index/x'));
      }
    }
  });

  it('decodeSnapshot returns a snapshot or CORRUPT_SNAPSHOT for any plaintext', {
    timeout: testTimeout(),
  }, () => {
    const inputs = fc.oneof(
      anyBytes,
      jsonishBytes,
      mutated(validSnapshot),
      objectWithSome(SNAPSHOT_KEYS).map((o) => Buffer.from(JSON.stringify(o))),
    );
    fc.assert(
      fc.property(inputs, (bytes) => {
        const snapshot = refusesCleanly('decodeSnapshot', bytes.length, () => decodeSnapshot(bytes, 'x'), [
          'CORRUPT_SNAPSHOT',
        ]);
        if (snapshot) {
          assert.ok(Array.isArray(snapshot.tags) && Array.isArray(snapshot.paths), 'lists are lists');
          assert.match(snapshot.tree, /^[0-9a-f]{64}$/);
          assert.ok(
            snapshot.tags.every((tag) => typeof tag === 'string'),
            'tags are strings',
          );
          assert.equal(typeof snapshot.hostname, 'string');
          assert.ok(
            Object.values(snapshot.stats).every((n) => typeof n !== 'number' || n >= 0),
            'stats are counts',
          );
          assert.equal(typeof snapshot.stats.bytesAddedStored, 'number');
        }
      }),
      params(),
    );
  });

  it('decodeConfig returns a config or CORRUPT_CONFIG for any plaintext', { timeout: testTimeout() }, () => {
    const valid = fc.constant(Buffer.from(JSON.stringify(newConfig())));
    const inputs = fc.oneof(
      anyBytes,
      jsonishBytes,
      mutated(valid),
      anyJson.map((v) => Buffer.from(JSON.stringify(v))),
      objectWithSome(['version', 'id', 'chunker', 'compressionLevel', 'packSize']).map((o) =>
        Buffer.from(JSON.stringify(o)),
      ),
    );
    fc.assert(
      fc.property(inputs, (bytes) => {
        refusesCleanly('decodeConfig', bytes.length, () => decodeConfig(bytes), ['CORRUPT_CONFIG']);
      }),
      params(),
    );
  });
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}
