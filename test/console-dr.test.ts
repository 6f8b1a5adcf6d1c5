// Disaster recovery in the console, in Chromium against the real vault server and two
// real site agents replicating two small real workloads: the sites with their heartbeat,
// the workloads with their RPO, a test failover started from the page and followed live,
// its manual action seen waiting (by a reader too, who has no button to confirm it) and
// confirmed, the run in the history with its RPO and RTO, its clean-up, the planned
// failover's confirmation dialog (focus in, Escape out, nothing started), then a real
// planned failover, commit, reprotect and failback, all from the pages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  assertCleanLog,
  createUser,
  loginByLink,
  loginByPassword,
  markWindow,
  screenshot,
  startBrowser,
  windowStillMarked,
} from './helpers/browser.ts';
import { consoleWorkload, DEFAULT_TEST_OFFSET, driveRuns, put, SHOP_PLAN } from './helpers/console-dr.ts';
import { rowsServed } from './helpers/dr-workload.ts';
import { type DrWorld, eventually, type Json, startDrWorld } from './helpers/dr-workload-sites.ts';

const WAIT = { timeout: 60_000 };
const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });
const step = (page: Page, name: string) => page.locator(`tr[data-step="${name}"]`);
const stepState = (page: Page, name: string) => step(page, name).getAttribute('data-state');

/** Waits for what the page should show; on a time-out, says where the run and the site agents were. */
async function shown(world: DrWorld, what: { waitFor: (o: typeof WAIT) => Promise<void> }, runId?: string) {
  try {
    await what.waitFor(WAIT);
  } catch (err) {
    const run = runId ? (await world.v.call(`/v1/dr/runs/${runId}`)).text : '';
    throw new Error(`${(err as Error).message}\nrun: ${run}\n${world.logs()}`);
  }
}

/** Workloads and plan applied, both sites' agents up, each workload running at dc1 with a replica point. */
async function readyWorld(world: DrWorld): Promise<Record<string, { port: number }>> {
  const ledger = await consoleWorkload(world.work, 'ledger');
  const shop = await consoleWorkload(world.work, 'shop');
  await put(world, '/v1/dr/workloads', { workloads: [ledger.spec, shop.spec] });
  await put(world, '/v1/dr/plans', { plans: [SHOP_PLAN] });
  world.startAgent('dc1');
  world.startAgent('dc2');
  for (const w of [ledger, shop]) {
    const started = await world.command('dc1', 'start', { workload: w.name, epoch: 1, mode: 'real' });
    assert.equal(started.state, 'succeeded', JSON.stringify(started.result));
  }
  await eventually(
    'a replica point of each workload reported',
    async () => {
      const s = await world.status();
      const all = s.workloads.every((w: Json) => w.replication?.lastPointId && w.rpoSeconds !== null);
      return all && s.workloads.length === 2 ? true : undefined;
    },
    world.logs,
  );
  return { ledger, shop };
}

async function openDr(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'Disaster recovery', exact: true }).click();
  await page.getByRole('heading', { name: 'Disaster recovery', level: 1 }).waitFor();
  await page.locator('tr[data-site="dc2"]').waitFor(WAIT);
}

/** Sites up with a heartbeat just now; workloads healthy at dc1 with an RPO, replicating to dc2. */
async function assertOverview(page: Page): Promise<void> {
  for (const site of ['dc1', 'dc2']) {
    const row = page.locator(`tr[data-site="${site}"]`);
    await row.getByText('up', { exact: true }).waitFor(WAIT);
    assert.match((await row.textContent()) ?? '', /\d+ s ago.*version .*127\.0\.0\.1:\d+/);
  }
  for (const name of ['ledger', 'shop']) {
    const row = page.locator(`tr[data-workload="${name}"]`);
    await row.getByText('healthy', { exact: true }).waitFor(WAIT);
    const text = (await row.textContent()) ?? '';
    assert.match(text, /dc1 \(primary\)dc2/, text);
    assert.match((await row.getByTestId('dr-rpo').textContent()) ?? '', /^\d+ (s|min)/);
  }
  const plan = page.getByRole('region', { name: 'Plan shop' });
  assert.match(
    (await plan.locator('li[data-group="data"]').textContent()) ?? '',
    /ledger.*Manual: check-orders/,
  );
  assert.match((await plan.locator('li[data-group="apps"]').textContent()) ?? '', /shop.*switch-dns/);
}

/** A reader sees the waiting action and the plans, and no button that acts. */
async function readerView(
  world: DrWorld,
  open: Awaited<ReturnType<typeof startBrowser>>['open'],
  runUrl: string,
) {
  const password = await createUser(world.v, 'rita', 'reader');
  const reader = await open();
  await loginByPassword(reader.page, world.v, 'rita', password);
  await reader.page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  // Inside the app (no page load that would cut the dashboard's requests short).
  await openDr(reader.page);
  await reader.page.getByRole('link', { name: 'follow it step by step' }).click();
  assert.equal(reader.page.url(), runUrl);
  await reader.page
    .locator('[data-waiting="check-orders"]')
    .getByText('the last orders are there')
    .waitFor(WAIT);
  assert.match((await reader.page.locator('[data-waiting]').textContent()) ?? '', /An owner confirms it/);
  assert.equal(await button(reader.page, 'Confirm').count(), 0, 'a reader has no Confirm button');
  await screenshot(reader.page, 'console-dr-reader-run');
  await reader.page.getByRole('link', { name: '← Disaster recovery' }).click();
  await reader.page.getByRole('region', { name: 'Plan shop' }).waitFor();
  for (const name of ['Test failover', 'Planned failover', 'Unplanned failover', 'Clean up', 'Commit'])
    assert.equal(await button(reader.page, name).count(), 0, `no ${name} button for a reader`);
  assert.equal(await reader.page.locator('[data-destructive]').count(), 0);
  await screenshot(reader.page, 'console-dr-reader');
  assertCleanLog(reader.log);
}

/** The planned failover asks for the plan's name in a dialog; Escape leaves with nothing started. */
async function plannedDialog(page: Page, world: DrWorld): Promise<void> {
  const runsBefore = (await world.v.call('/v1/dr/runs')).json().runs.length;
  await button(page, 'Planned failover').click();
  const dialog = page.getByRole('dialog', { name: 'Planned failover of shop' });
  await dialog.waitFor();
  const input = dialog.getByLabel('Type the plan name, shop, to confirm');
  assert.ok(
    await input.evaluate((el) => el === el.ownerDocument.activeElement),
    'focus is in the name field',
  );
  const start = dialog.getByRole('button', { name: 'Start planned failover' });
  assert.ok(await start.isDisabled());
  await input.fill('shoq');
  assert.ok(await start.isDisabled(), 'a wrong name starts nothing');
  await input.fill('shop');
  assert.ok(await start.isEnabled());
  await screenshot(page, 'console-dr-planned-dialog');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.ok(
    await button(page, 'Planned failover').evaluate((el) => el === el.ownerDocument.activeElement),
    'focus back on the button that opened it',
  );
  assert.equal((await world.v.call('/v1/dr/runs')).json().runs.length, runsBefore);
}

/** Starts a real failover from its dialog and waits on the run page for it to succeed. */
async function startReal(page: Page, world: DrWorld, opener: string, title: string): Promise<string> {
  const before = page.url();
  await button(page, opener).click();
  const dialog = page.getByRole('dialog', { name: `${title} of shop` });
  await dialog.getByLabel('Type the plan name, shop, to confirm').fill('shop');
  await dialog.getByRole('button', { name: `Start ${title.toLowerCase()}` }).click();
  await page.waitForURL((url) => url.href !== before && url.pathname.startsWith('/dr/runs/'));
  const runId = /\/dr\/runs\/([^/]+)$/.exec(page.url())![1]!;
  await shown(world, page.locator('h1 .badge', { hasText: 'succeeded' }), runId);
  return runId;
}

/** Commit, then reprotect, from the run page; `at` is where the workloads run afterwards. */
async function commitAndReprotect(page: Page, world: DrWorld, runId: string, at: string): Promise<void> {
  await button(page, 'Commit').click();
  await button(page, 'Yes, commit').click();
  await button(page, 'Reprotect').waitFor(WAIT);
  assert.ok((await world.v.call(`/v1/dr/runs/${runId}`)).json().committedAt);
  await button(page, 'Reprotect').click();
  await button(page, 'Yes, reprotect').click();
  await button(page, 'Reprotect').waitFor({ state: 'detached', ...WAIT });
  const status = await world.status();
  for (const w of status.workloads) {
    assert.equal(w.activeSite, at, JSON.stringify(w));
    assert.equal(w.primarySite, at, 'replication reversed');
  }
}

/** Planned failover to dc2, commit, reprotect, fail back to dc1, commit, reprotect: all from the pages. */
async function realCycle(page: Page, world: DrWorld, shopPort: number): Promise<void> {
  const before = await rowsServed(shopPort);
  assert.ok(before, 'the shop serves at dc1');
  const planned = await startReal(page, world, 'Planned failover', 'Planned failover');
  await page.getByRole('heading', { name: /^Planned failover of shop/ }).waitFor();
  for (const name of ['stop/shop', 'sync/ledger', 'fence/ledger', 'switch-dns', 'health/shop'])
    assert.equal(await stepState(page, name), 'succeeded', name);
  assert.equal(await stepState(page, 'check-orders'), 'skipped', 'only for tests');
  const after = await rowsServed(shopPort);
  assert.ok(after && after.pid !== before.pid && after.rows >= before.rows, 'the shop serves from dc2');
  await screenshot(page, 'console-dr-planned-run');
  await commitAndReprotect(page, world, planned, 'dc2');

  const back = await startReal(page, world, 'Fail back', 'Failback');
  await page.getByRole('heading', { name: /^Planned failover \(failback\) of shop/ }).waitFor();
  assert.notEqual(back, planned);
  await commitAndReprotect(page, world, back, 'dc1');
  assert.equal(await button(page, 'Fail back').count(), 0, 'nothing to fail back from a failback');
  await screenshot(page, 'console-dr-failback');
}

test('disaster recovery page: a test failover followed live, a manual action confirmed, history, clean-up, a planned failover and failback; a reader only looks', async (t) => {
  const world = await startDrWorld(t);
  const workloads = await readyWorld(world);
  driveRuns(world, t);
  const { open } = await startBrowser(t);
  const { page, log } = await open();
  await loginByLink(page, world.v);
  await openDr(page);
  await assertOverview(page);
  await screenshot(page, 'console-dr-overview');

  await markWindow(page);
  await page
    .getByRole('region', { name: 'Plan shop' })
    .getByRole('button', { name: 'Test failover' })
    .click();
  await page.getByRole('heading', { name: /^Test failover of shop/ }).waitFor();
  const runId = /\/dr\/runs\/([^/]+)$/.exec(page.url())?.[1];
  assert.ok(runId, page.url());
  await step(page, 'start/shop').waitFor();
  assert.equal(await stepState(page, 'start/shop'), 'pending', 'the second group waits for the first');

  const waiting = page.locator('[data-waiting="check-orders"]');
  await shown(world, waiting.getByText('the last orders are there'), runId);
  assert.equal(await stepState(page, 'health/ledger'), 'succeeded');
  assert.equal(await stepState(page, 'check-orders'), 'waiting');
  assert.equal(await stepState(page, 'start/shop'), 'pending');
  assert.ok(
    await rowsServed(workloads.ledger!.port + DEFAULT_TEST_OFFSET),
    'the test copy of the ledger serves',
  );
  await screenshot(page, 'console-dr-waiting');
  await readerView(world, open, page.url());

  await waiting.getByRole('button', { name: 'Confirm' }).click();
  await shown(world, page.locator('h1 .badge', { hasText: 'succeeded' }), runId);
  assert.equal(await stepState(page, 'check-orders'), 'succeeded');
  assert.match((await step(page, 'check-orders').textContent()) ?? '', /confirmed by/);
  assert.equal(await stepState(page, 'switch-dns'), 'skipped', 'only for real failovers');
  assert.equal(await stepState(page, 'health/shop'), 'succeeded');
  assert.ok(await windowStillMarked(page), 'the steps moved on without a reload');
  const run = (await world.v.call(`/v1/dr/runs/${runId}`)).json();
  assert.equal(run.state, 'succeeded', JSON.stringify(run));
  assert.ok(run.rpoSeconds !== null && run.rtoSeconds !== null);
  for (const id of ['run-rpo', 'run-rto'])
    assert.match((await page.getByTestId(id).textContent()) ?? '', /^\d+ (s|min)/);
  await screenshot(page, 'console-dr-run-succeeded');

  await button(page, 'Clean up').click();
  await shown(world, page.getByText('clean-up succeeded'), runId);
  assert.equal(await stepState(page, 'cleanup/dc2/1'), 'succeeded');
  assert.equal(
    await rowsServed(workloads.ledger!.port + DEFAULT_TEST_OFFSET),
    undefined,
    'the test copy is gone',
  );
  assert.equal((await world.v.call(`/v1/dr/runs/${runId}`)).json().cleanup, 'succeeded');

  await page.getByRole('link', { name: '← Disaster recovery' }).click();
  const row = page.locator(`tr[data-run="${runId}"]`);
  await row.waitFor();
  assert.match((await row.textContent()) ?? '', /Test failover.*succeeded.*cleanup succeeded/);
  for (const id of ['run-rpo', 'run-rto'])
    assert.match((await row.getByTestId(id).textContent()) ?? '', /^\d+ (s|min)/);
  assert.doesNotMatch((await page.locator('tr[data-workload="ledger"]').textContent()) ?? '', /never/);
  await plannedDialog(page, world);
  await screenshot(page, 'console-dr-history');

  await realCycle(page, world, workloads.shop!.port);
  await page.getByRole('link', { name: '← Disaster recovery' }).click();
  await page.locator('tr[data-run]').nth(2).waitFor();
  assert.match((await page.getByTestId('dr-history').textContent()) ?? '', /Planned failover \(failback\)/);
  assert.ok(await windowStillMarked(page), 'the whole session without a reload');
  assertCleanLog(log);
});
