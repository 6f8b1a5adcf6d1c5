// The audit log and the region probes in the console, in Chromium against a real vault
// server: an owner sees the changes made through the API (and a refused attempt), checks
// the hash chain from the page, and sees each server's last probe on the vault page; a
// reader has no audit page.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assertCleanLog,
  createUser,
  loginByLink,
  loginByPassword,
  screenshot,
  startBrowser,
} from './helpers/browser.ts';
import { registerTestAgent, startTestVault } from './helpers/vault.ts';

const PROBE = {
  regions: [
    {
      region: 'local',
      kind: 'file',
      latencyMs: 1.5,
      uploadBytesPerSecond: 52_428_800,
      downloadBytesPerSecond: 83_886_080,
      bytes: 4_194_304,
      error: null,
    },
  ],
};

test('an owner reads the audit log, verifies its chain, and sees the last region probe', async (t) => {
  const v = await startTestVault(t);
  const agent = await registerTestAgent(v, 'prod', 'web1');
  const probed = await agent.call('/v1/agent/probe', { method: 'POST', body: JSON.stringify(PROBE) });
  assert.equal(probed.status, 200, probed.text);
  const created = await v.call('/v1/vaults', {
    method: 'POST',
    body: JSON.stringify({ name: 'second', region: 'local' }),
  });
  assert.equal(created.status, 201, created.text);
  const anonymous = await v.call('/v1/vaults', {
    method: 'POST',
    token: '',
    body: '{"name":"x","region":"local"}',
  });
  assert.equal(anonymous.status, 401);
  const password = await createUser(v, 'rita', 'reader');
  const { open } = await startBrowser(t);

  const owner = await open();
  await loginByLink(owner.page, v);
  await owner.page.getByRole('link', { name: 'Audit', exact: true }).click();
  await owner.page.getByRole('heading', { name: 'Audit log' }).waitFor();
  const created2 = owner.page.locator('tr', { hasText: 'vault:second' });
  await created2.waitFor();
  assert.match((await created2.textContent()) ?? '', /vault\.create.*succeeded/);
  const refused = owner.page.locator('tr', { hasText: 'refused' }).first();
  assert.match((await refused.textContent()) ?? '', /anonymous.*vault\.create.*refused/);
  await owner.page.getByRole('button', { name: 'Verify the chain' }).click();
  const verdict = owner.page.getByTestId('audit-verified');
  await verdict.waitFor();
  assert.match((await verdict.textContent()) ?? '', /^Intact: \d+ entries verified/);
  await screenshot(owner.page, 'console-audit-log');

  await owner.page.getByRole('link', { name: 'Dashboard', exact: true }).click();
  await owner.page.getByRole('link', { name: 'prod', exact: true }).first().click();
  const probeRow = owner.page.getByTestId('probes').locator('tr', { hasText: 'web1' });
  await probeRow.waitFor();
  assert.match(
    (await probeRow.textContent()) ?? '',
    /local \(file\).*1\.5 ms.*50(\.0)? MiB\/s.*80(\.0)? MiB\/s/,
  );
  await screenshot(owner.page, 'console-audit-probes');
  assertCleanLog(owner.log);

  const reader = await open();
  await loginByPassword(reader.page, v, 'rita', password);
  await reader.page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  assert.equal(await reader.page.getByRole('link', { name: 'Audit', exact: true }).count(), 0);
  assertCleanLog(reader.log);
});
