import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { bytes, keyOrNull, num, optNum, optStr, str } from './columns.ts';

// The readers against what node:sqlite really returns. What pg returns (BIGINT as a
// number or as text, BYTEA as a Buffer) is read from a real server in ../postgres.test.ts;
// the values it produces are also written out here, so both shapes are checked in one place.

const corrupt = { code: 'CATALOG_CORRUPT', kind: 'integrity' };
const BEYOND_DOUBLE = 2n ** 53n + 1n;

function sqliteRow(sql: string, readBigInts = false) {
  const db = new DatabaseSync(':memory:');
  try {
    const statement = db.prepare(sql);
    statement.setReadBigInts(readBigInts);
    return statement.get()!;
  } finally {
    db.close();
  }
}

describe('catalog column readers', () => {
  it('read SQLite INTEGER as a number, as a bigint too when a double holds it', () => {
    const plain = sqliteRow('SELECT 42 AS small, NULL AS none');
    assert.equal(num(plain, 'small'), 42);
    assert.equal(optNum(plain, 'none'), null);
    const wide = sqliteRow(`SELECT 42 AS small, ${2 ** 53 - 1} AS largest, ${BEYOND_DOUBLE} AS big`, true);
    assert.equal(typeof wide.small, 'bigint');
    assert.equal(num(wide, 'small'), 42);
    assert.equal(num(wide, 'largest'), Number.MAX_SAFE_INTEGER);
    assert.throws(() => num(wide, 'big'), corrupt);
  });

  it('refuse a number that pg left as text (BIGINT beyond a double) instead of rounding it', () => {
    assert.throws(() => num({ seq: String(BEYOND_DOUBLE) }, 'seq'), corrupt);
    assert.throws(() => num({ seq: '42' }, 'seq'), corrupt);
    assert.throws(() => optNum({ seq: undefined }, 'seq'), corrupt);
  });

  it('hand out SQLite BLOBs as they are and pg Buffers as a plain copy', () => {
    const blob = sqliteRow("SELECT x'0102ff' AS packs").packs;
    assert.ok(blob instanceof Uint8Array && !Buffer.isBuffer(blob));
    assert.equal(bytes({ packs: blob }, 'packs'), blob);

    const pooled = Buffer.from([1, 2, 255]);
    const copy = bytes({ packs: pooled }, 'packs');
    assert.ok(!Buffer.isBuffer(copy));
    assert.deepEqual(copy, new Uint8Array([1, 2, 255]));
    pooled[0] = 9;
    assert.equal(copy[0], 1);
    assert.throws(() => bytes({ packs: 'AQL/' }, 'packs'), corrupt);
  });

  it('read text, NULL text, and the empty key that stands for none', () => {
    const row = sqliteRow("SELECT 'v1' AS id, NULL AS error, '' AS server_id, 7 AS name");
    assert.equal(str(row, 'id'), 'v1');
    assert.equal(optStr(row, 'error'), null);
    assert.equal(keyOrNull(row, 'server_id'), null);
    assert.equal(keyOrNull(row, 'id'), 'v1');
    assert.throws(() => str(row, 'name'), corrupt);
    assert.throws(() => str(row, 'missing'), corrupt);
  });
});
