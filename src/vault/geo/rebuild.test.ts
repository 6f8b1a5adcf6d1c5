import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../storage/index.ts';
import { SqliteCatalog } from '../catalog/index.ts';
import { vaultRecordPrefix, versionedName } from '../layout.ts';
import { rebuildCatalog } from '../rebuild.ts';
import { saveVaultRecord } from '../records.ts';

const T0 = Date.UTC(2025, 5, 1);

describe('rebuild-catalog and secondary regions', () => {
  it("brings a vault's secondary region back from its record in storage", async () => {
    const before = SqliteCatalog.memory();
    const region = new MemoryStore('memory:a');
    const vault = await before.createVault({ name: 'geo', region: 'a', secondaryRegion: 'b', createdAt: T0 });
    await saveVaultRecord(region, vault, T0);
    const after = SqliteCatalog.memory();
    const report = await rebuildCatalog(after, [region], T0 + 1);
    assert.equal(report.vaults, 1);
    assert.deepEqual(await after.getVault(vault.id), vault);
  });

  it('reads a record written before vaults had secondary regions as having none', async () => {
    const region = new MemoryStore('memory:a');
    const id = '0b5e2c1a-7d3f-4e2a-9c1b-2f3e4d5c6b7a';
    const old = {
      version: 1,
      vault: {
        id,
        name: 'old',
        region: 'a',
        quotaBytes: null,
        softDeleteDays: 14,
        immutable: false,
        policy: null,
        createdAt: T0,
        deletedAt: null,
      },
    };
    await region.put(versionedName(vaultRecordPrefix(id), T0), Buffer.from(JSON.stringify(old)));
    const catalog = SqliteCatalog.memory();
    await rebuildCatalog(catalog, [region], T0 + 1);
    assert.equal((await catalog.getVault(id)).secondaryRegion, null);
  });
});
