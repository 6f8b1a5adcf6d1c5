import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadInputError, TransientError } from '../../errors/index.ts';
import { type ByteRange, MemoryStore } from '../../storage/index.ts';
import type { VaultRow } from '../catalog/index.ts';
import { repoPrefix } from '../layout.ts';
import { agentRepoStore, regionHealth } from './read-fallback.ts';

/** A region whose reads and puts fail as unreachable while `down`, counting the reads it gets. */
class Region extends MemoryStore {
  down = false;
  reads = 0;
  override async get(name: string, range?: ByteRange): Promise<Buffer> {
    this.reads++;
    if (this.down) throw new TransientError('RETRIES_EXHAUSTED', 'connection refused');
    return super.get(name, range);
  }
  override async put(name: string, data: Uint8Array): Promise<void> {
    if (this.down) throw new TransientError('RETRIES_EXHAUSTED', 'connection refused');
    await super.put(name, data);
  }
}

const VAULT: VaultRow = {
  id: '0b5e2c1a-7d3f-4e2a-9c1b-2f3e4d5c6b7a',
  name: 'prod',
  region: 'a',
  secondaryRegion: 'b',
  quotaBytes: null,
  softDeleteDays: 14,
  immutable: false,
  policy: null,
  createdAt: 0,
  deletedAt: null,
};
const SERVER = '1c6f3d2b-8e4a-4f3b-8d2c-3a4f5e6d7c8b';

function regions(configured = ['a', 'b']) {
  const stores = { a: new Region('memory:a'), b: new Region('memory:b') };
  const regionStore = (name: string) => {
    if (!configured.includes(name)) throw new BadInputError('UNKNOWN_REGION', `no region ${name}`);
    return stores[name as 'a' | 'b'];
  };
  return { ...stores, regionStore };
}

describe("an agent's repository with a secondary region", () => {
  it('serves reads from the secondary when the primary fails, and logs the switch once', async () => {
    const r = regions();
    const config = `${repoPrefix(VAULT.id, SERVER)}config`;
    await r.a.put(config, Buffer.from('c'));
    await r.b.put(config, Buffer.from('c'));
    r.a.down = true;
    const logs: Record<string, unknown>[] = [];
    const log = (e: Record<string, unknown>) => logs.push(e);
    assert.deepEqual(await agentRepoStore(r.regionStore, VAULT, SERVER, log).get('config'), Buffer.from('c'));
    assert.deepEqual(await agentRepoStore(r.regionStore, VAULT, SERVER, log).get('config'), Buffer.from('c'));
    assert.equal(r.a.reads, 1, 'the second request went straight to the secondary');
    assert.equal(logs.length, 1);
    assert.deepEqual(
      { ...logs[0], time: undefined },
      {
        time: undefined,
        level: 'warn',
        msg: 'primary region unreachable: reads are served from the secondary region',
        vault: 'prod',
        region: 'a',
        secondaryRegion: 'b',
        op: 'get',
        object: 'config',
        error: 'RETRIES_EXHAUSTED',
      },
    );
    assert.notEqual(regionHealth(r.a).downSince, null);
    await assert.rejects(
      agentRepoStore(r.regionStore, VAULT, SERVER, log).put('sessions/x', Buffer.from('x')),
      {
        code: 'PRIMARY_UNAVAILABLE',
      },
    );
  });

  it('reads the primary alone without a secondary, or with one this server does not have', async () => {
    for (const [vault, configured] of [
      [{ ...VAULT, secondaryRegion: null }, ['a', 'b']],
      [VAULT, ['a']],
    ] as const) {
      const r = regions([...configured]);
      await r.b.put(`${repoPrefix(VAULT.id, SERVER)}config`, Buffer.from('c'));
      r.a.down = true;
      await assert.rejects(agentRepoStore(r.regionStore, vault, SERVER, () => {}).get('config'), {
        code: 'RETRIES_EXHAUSTED',
      });
    }
  });
});
