// A reader's view of a vault in Chromium against a real vault server: nothing destructive
// is shown (no data-destructive element, no Undelete, Create vault or Save policy); the
// owner's view of the same vault has them.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { SqliteCatalog } from '../src/vault/catalog/index.ts';
import {
  assertCleanLog,
  createUser,
  loginByLink,
  loginByPassword,
  screenshot,
  startBrowser,
} from './helpers/browser.ts';
import { registerTestAgent, startTestVault, type TestVault } from './helpers/vault.ts';

/** One committed point for web1 in vault prod, then soft-deleted: the page has an undelete row. */
async function softDeletedPoint(v: TestVault): Promise<void> {
  const agent = await registerTestAgent(v, 'prod', 'web1');
  const catalog = SqliteCatalog.open(v.server.files.catalog);
  try {
    const snapshotName = createHash('sha256').update(randomBytes(32)).digest('hex');
    const point = await catalog.commitPoint({
      serverId: agent.server.id,
      snapshotName,
      time: v.clock.now(),
      stats: {
        bytesProcessed: 1_000_000,
        bytesAddedRaw: 60_000,
        bytesAddedStored: 40_000,
        hostname: 'web1',
        paths: ['/srv'],
        tags: [],
      },
      packSeqs: [],
      committedAt: v.clock.now(),
    });
    await catalog.softDeletePoint(point.id, v.clock.now());
  } finally {
    catalog.close();
  }
}

async function openVault(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'prod', exact: true }).first().click();
  await page.getByRole('heading', { name: 'Vault prod' }).waitFor();
  await page.getByRole('heading', { name: 'Backup policy' }).waitFor();
  await page.getByText('Soft-deleted recovery points').first().waitFor();
}

const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });

test("a reader's vault page shows no destructive button; the owner's has them", async (t) => {
  const v = await startTestVault(t);
  await softDeletedPoint(v);
  const password = await createUser(v, 'rita', 'reader');
  const { open } = await startBrowser(t);

  const owner = await open();
  await loginByLink(owner.page, v);
  await button(owner.page, 'Create vault').waitFor();
  await openVault(owner.page);
  await button(owner.page, 'Undelete').waitFor();
  await button(owner.page, 'Save policy').waitFor();
  assert.ok((await owner.page.locator('[data-destructive]').count()) > 0, 'the owner sees Make immutable');
  await screenshot(owner.page, 'console-reader-owner-view');
  assertCleanLog(owner.log);

  const reader = await open();
  await loginByPassword(reader.page, v, 'rita', password);
  await reader.page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  assert.match((await reader.page.locator('header .who').textContent()) ?? '', /rita\s*reader/);
  assert.equal(await button(reader.page, 'Create vault').count(), 0);
  await openVault(reader.page);
  await reader.page.getByText('web1').first().waitFor();
  assert.equal(await reader.page.locator('[data-destructive]').count(), 0, 'nothing destructive');
  for (const name of ['Undelete', 'Create vault', 'Save policy', 'Make immutable'])
    assert.equal(await button(reader.page, name).count(), 0, `no ${name} button for a reader`);
  await screenshot(reader.page, 'console-reader-reader-view');
  assertCleanLog(reader.log);
});
