// The console's main path in Chromium against a real vault server with real data: create a
// vault, download its credentials, register an agent with them (CLI), back up, see the job
// and the vault's points and usage update without a reload, and undelete a point that
// retention soft-deleted.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  assertCleanLog,
  loginByLink,
  markWindow,
  screenshot,
  startBrowser,
  windowStillMarked,
} from './helpers/browser.ts';
import { lastJson, runCli } from './helpers/cli.ts';
import { makeTree } from './helpers/tree-fixture.ts';
import { startTestVault, type TestVault } from './helpers/vault.ts';

const HOUR = 3_600_000;

async function ok(args: string[], env: Record<string, string>) {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return lastJson(r);
}

/** Downloads the credentials from the register page and returns where the file was saved. */
async function downloadCredentials(page: Page, v: TestVault): Promise<string> {
  await page.getByRole('link', { name: 'Register a server' }).click();
  await page.getByRole('heading', { name: 'Register a server with prod' }).waitFor();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download vault credentials' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'prod.credentials');
  const file = join(v.dir, 'prod.credentials');
  await download.saveAs(file);
  const parsed = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(typeof parsed, 'object');
  assert.ok(parsed.expiresAt, 'a credentials file with its expiry');
  return file;
}

test('create a vault, register and back up, see it live, undelete a soft-deleted point', async (t) => {
  const v = await startTestVault(t);
  const { open } = await startBrowser(t);
  const { page, log } = await open();
  await loginByLink(page, v);
  await page.getByLabel('Name', { exact: true }).fill('prod');
  await page.getByRole('button', { name: 'Create vault' }).click();
  await page.getByRole('heading', { name: 'Vault prod' }).waitFor();
  const credentials = await downloadCredentials(page, v);

  const env = {
    OFFSITE_AGENT_DIR: join(v.dir, 'agent-web1'),
    OFFSITE_PASSWORD_FILE: join(v.dir, 'web1.pass'),
  };
  await writeFile(env.OFFSITE_PASSWORD_FILE, 'passphrase of web1 long enough\n', { mode: 0o600 });
  await ok(['agent', 'register', '--credentials', credentials, '--name', 'web1'], env);
  await ok(['init'], env);

  await page.goBack();
  await page.getByRole('heading', { name: 'Vault prod' }).waitFor();
  await page.getByText('No recovery point yet.').waitFor();
  await markWindow(page);
  const src = join(v.dir, 'src');
  await makeTree(src, { smallFiles: 50, largeFileBytes: 256 * 1024, seed: 1 });
  const first = await ok(['backup', src], env);
  await writeFile(join(src, 'new-file.txt'), 'a change for the second point\n');
  const second = await ok(['backup', src], env);
  await page.locator(`tr[data-point="${first.point.id}"]`).waitFor();
  await page.locator(`tr[data-point="${second.point.id}"]`).waitFor();
  await page.getByRole('heading', { name: 'web1' }).waitFor();
  const chart = page.getByTestId('usage-chart');
  assert.doesNotMatch((await chart.getAttribute('aria-label')) ?? '', /Now 0 B protected/);
  assert.ok(await windowStillMarked(page), 'the points appeared without a reload');

  // Keep one point a day: the earlier of today's two is soft-deleted.
  const policy = { schedule: { times: ['02:00'], timeZone: 'UTC' }, retention: { daily: 1 } };
  const put = await v.call('/v1/vaults/prod/policy', { method: 'PUT', body: JSON.stringify(policy) });
  assert.equal(put.status, 200, put.text);
  v.clock.advance(HOUR);
  await v.server.background.runNow('retention');
  const deletedRow = page.locator(`tr[data-point="${first.point.id}"]`, { hasText: 'Undelete' });
  await deletedRow.getByRole('button', { name: 'Undelete' }).waitFor();
  await screenshot(page, 'console-vault-soft-deleted');
  assert.match((await page.locator('main').textContent()) ?? '', /soft-deleted/);
  await deletedRow.getByRole('button', { name: 'Undelete' }).click();
  await page.getByText('No soft-deleted recovery point.').waitFor();
  const points = (await v.call('/v1/vaults/prod/points')).json();
  const list = (points.points ?? points) as { id: string; state: string }[];
  assert.equal(list.find((p) => p.id === first.point.id)?.state, 'active');

  await page.getByRole('link', { name: 'Jobs', exact: true }).first().click();
  await page.getByTestId('jobs-table').getByText('web1').first().waitFor();
  assert.ok(await windowStillMarked(page), 'the jobs page too, without a reload');
  await screenshot(page, 'console-vault-jobs');
  assert.match((await page.getByTestId('jobs-table').textContent()) ?? '', /backup/);
  assertCleanLog(log);
});
