import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SqliteCatalog } from '../catalog/index.ts';
import { checkAllCertificates } from './cert-alerts.ts';

const T0 = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;

async function setup() {
  const catalog = SqliteCatalog.memory();
  const vault = await catalog.createVault({ name: 'main', region: 'local', createdAt: T0 });
  const server = (name: string, notAfter: number, fingerprint = name.repeat(64)) =>
    catalog.registerServer({
      vaultId: vault.id,
      name,
      certFingerprint: fingerprint,
      certNotAfter: notAfter,
      via: 'certificate',
      registeredAt: T0,
    });
  const upload = (label: string, notAfter: number) =>
    catalog.addCertificate({
      vaultId: vault.id,
      fingerprint256: label.repeat(64),
      subject: `CN=${label}`,
      notAfter,
      uploadedAt: T0,
    });
  return { catalog, vault, server, upload };
}

describe('certificate expiry alerts', () => {
  it('warns 14 days ahead, escalates when expired, and resolves after renewal', async (t) => {
    const { catalog, vault, server } = await setup();
    t.after(() => catalog.close());
    const web = await server('a', T0 + 30 * DAY);
    await checkAllCertificates(catalog, T0);
    assert.deepEqual(await catalog.listAlerts(vault.id), []);
    await checkAllCertificates(catalog, T0 + 16 * DAY);
    const [soon] = await catalog.listAlerts(vault.id, { openOnly: true });
    assert.deepEqual([soon!.kind, soon!.severity, soon!.serverId], ['certificate-expiry', 'warning', web.id]);
    assert.match(soon!.message, /server a expires on 2025-01-31/);
    await checkAllCertificates(catalog, T0 + 17 * DAY);
    assert.equal((await catalog.getAlert(soon!.id)).occurrences, 1, 'no re-raise while nothing changed');
    await checkAllCertificates(catalog, T0 + 30 * DAY);
    const expired = await catalog.getAlert(soon!.id);
    assert.deepEqual([expired.severity, expired.occurrences], ['critical', 2]);
    await catalog.renewServerCertificate(web.id, {
      certFingerprint: 'c'.repeat(64),
      certNotAfter: T0 + 400 * DAY,
    });
    await checkAllCertificates(catalog, T0 + 31 * DAY);
    assert.deepEqual(await catalog.listAlerts(vault.id, { openOnly: true }), []);
  });

  it('covers uploaded certificates no server uses, until they are revoked', async (t) => {
    const { catalog, vault, server, upload } = await setup();
    t.after(() => catalog.close());
    const unused = await upload('d', T0 + 10 * DAY);
    await upload('e', T0 + 10 * DAY);
    await server('used', T0 + 300 * DAY, 'e'.repeat(64));
    await upload('f', T0 + 100 * DAY);
    await checkAllCertificates(catalog, T0);
    const open = await catalog.listAlerts(vault.id, { openOnly: true });
    assert.deepEqual(
      open.map((a) => [a.dedupeKey, a.serverId]),
      [[`certificate-expiry:certificate:${unused.id}`, null]],
    );
    assert.match(open[0]!.message, /uploaded certificate "CN=d"/);
    await catalog.revokeCertificate(unused.id, T0 + 1);
    await checkAllCertificates(catalog, T0 + 2);
    assert.deepEqual(await catalog.listAlerts(vault.id, { openOnly: true }), []);
  });

  it('does not alert on a vault credentials file that expires unused', async (t) => {
    const { catalog, vault } = await setup();
    t.after(() => catalog.close());
    await catalog.issueCredentials({
      vaultId: vault.id,
      secretHash: 'h',
      issuedAt: T0,
      expiresAt: T0 + 2 * DAY,
    });
    await checkAllCertificates(catalog, T0 + DAY);
    await checkAllCertificates(catalog, T0 + 3 * DAY);
    assert.deepEqual(await catalog.listAlerts(vault.id), []);
  });
});
