import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SqliteCatalog, type VaultRow } from '../catalog/index.ts';
import { checkAllQuotas, checkQuotaAlerts } from './quota.ts';

const T0 = Date.UTC(2025, 0, 1);

async function setup(quotaBytes: number | null = 1000) {
  const catalog = SqliteCatalog.memory();
  const vault = await catalog.createVault({ name: 'main', region: 'local', quotaBytes, createdAt: T0 });
  const hook = await catalog.createWebhook({
    vaultId: vault.id,
    url: 'http://h.test/',
    secretSealed: null,
    createdAt: T0,
  });
  return { catalog, vault, hook };
}

async function openKeys(catalog: SqliteCatalog, vault: VaultRow) {
  return (await catalog.listAlerts(vault.id, { openOnly: true })).map((a) => [a.dedupeKey, a.severity]);
}

describe('checkQuotaAlerts', () => {
  it('opens one alert per threshold reached, 80 % warning, 95 % and 100 % critical', async (t) => {
    const { catalog, vault } = await setup();
    t.after(() => catalog.close());
    assert.equal(await checkQuotaAlerts(catalog, vault, 799, T0), null);
    assert.deepEqual(await openKeys(catalog, vault), []);
    assert.equal(await checkQuotaAlerts(catalog, vault, 800, T0 + 1), 80);
    assert.deepEqual(await openKeys(catalog, vault), [['quota-80', 'warning']]);
    assert.equal(await checkQuotaAlerts(catalog, vault, 950, T0 + 2), 95);
    assert.deepEqual(await openKeys(catalog, vault), [['quota-95', 'critical']]);
    assert.equal(await checkQuotaAlerts(catalog, vault, 1000, T0 + 3), 100);
    assert.deepEqual(await openKeys(catalog, vault), [['quota-100', 'critical']]);
    const [full] = await catalog.listAlerts(vault.id, { openOnly: true });
    assert.match(full!.message, /vault main is full .*new backup data is refused/);
    const all = await catalog.listAlerts(vault.id);
    assert.deepEqual(
      all.map((a) => [a.dedupeKey, a.resolvedAt]),
      [
        ['quota-100', null],
        ['quota-95', T0 + 3],
        ['quota-80', T0 + 2],
      ],
    );
  });

  it('raises only when the level changes, so webhooks hear of each crossing once', async (t) => {
    const { catalog, vault, hook } = await setup();
    t.after(() => catalog.close());
    await checkQuotaAlerts(catalog, vault, 810, T0);
    await checkQuotaAlerts(catalog, vault, 850, T0 + 1);
    await checkQuotaAlerts(catalog, vault, 900, T0 + 2);
    const [alert] = await catalog.listAlerts(vault.id, { openOnly: true });
    assert.equal(alert!.occurrences, 1);
    assert.match(alert!.message, /uses 81% of its quota/);
    await checkQuotaAlerts(catalog, vault, 960, T0 + 3);
    await checkQuotaAlerts(catalog, vault, 100, T0 + 4);
    assert.deepEqual(await openKeys(catalog, vault), []);
    const sent = await catalog.listWebhookDeliveries(hook.id);
    assert.deepEqual(
      sent.map((d) => d.alert.dedupeKey),
      ['quota-95', 'quota-80'],
    );
  });

  it('resolves quota alerts when the quota is removed or the vault deleted', async (t) => {
    const { catalog, vault } = await setup();
    t.after(() => catalog.close());
    await checkQuotaAlerts(catalog, vault, 990, T0);
    const unlimited = await catalog.updateVault(vault.id, { quotaBytes: null });
    assert.equal(await checkQuotaAlerts(catalog, unlimited, 990, T0 + 1), null);
    assert.deepEqual(await openKeys(catalog, vault), []);
    const limited = await catalog.updateVault(vault.id, { quotaBytes: 1000 });
    await checkQuotaAlerts(catalog, limited, 990, T0 + 2);
    const deleted = await catalog.deleteVault(vault.id, T0 + 3);
    assert.equal(await checkQuotaAlerts(catalog, deleted, 990, T0 + 4), null);
    assert.deepEqual(await openKeys(catalog, vault), []);
  });

  it('counts the packs of every server of the vault in the background check', async (t) => {
    const { catalog, vault } = await setup();
    t.after(() => catalog.close());
    for (const name of ['a', 'b']) {
      const server = await catalog.registerServer({
        vaultId: vault.id,
        name,
        certFingerprint: name.repeat(64),
        certNotAfter: T0 + 1e10,
        via: 'credentials',
        registeredAt: T0,
      });
      await catalog.recordPack({ serverId: server.id, name: 'p', size: 480, createdAt: T0 });
    }
    await checkAllQuotas(catalog, T0 + 1);
    assert.deepEqual(await openKeys(catalog, vault), [['quota-95', 'critical']]);
  });
});
