import type { Catalog, VaultRow } from '../catalog/index.ts';
import { ALERT_KINDS, raiseIfChanged, resolveOpen } from './alerts.ts';
import { iso } from './input.ts';

// Certificates that expire soon: a registered server's client certificate, and an
// uploaded certificate no server uses yet (one that a server uses is covered by that
// server's alert). A vault credentials file expiring unused is not an alert: it is
// single-use and short-lived by design, and a new one is issued on demand.

export const CERT_WARNING_DAYS = 14;
const DAY = 86_400_000;

interface Expiring {
  vaultId: string;
  serverId: string | null;
  key: string;
  notAfter: number;
  what: string;
  hint: string;
}

async function expiryAlert(catalog: Catalog, cert: Expiring, now: number): Promise<void> {
  if (cert.notAfter - now > CERT_WARNING_DAYS * DAY) {
    await resolveOpen(catalog, cert.vaultId, cert.key, now);
    return;
  }
  const expired = cert.notAfter <= now;
  const when = `${expired ? 'expired' : 'expires'} on ${iso(cert.notAfter)}`;
  await raiseIfChanged(catalog, {
    vaultId: cert.vaultId,
    serverId: cert.serverId,
    kind: ALERT_KINDS.certificateExpiry,
    severity: expired ? 'critical' : 'warning',
    message: `${cert.what} ${when}: ${cert.hint}`,
    dedupeKey: cert.key,
    raisedAt: now,
  });
}

const RENEWS_ITSELF = 'the agent renews it before expiry; check that the agent runs and reaches the vault';
const UPLOAD_NEW =
  'make a new certificate (`offsite cert create`), upload it and register the server with it';

export async function checkCertificateAlerts(catalog: Catalog, vault: VaultRow, now: number): Promise<void> {
  const servers = await catalog.listServers(vault.id);
  for (const s of servers) {
    await expiryAlert(
      catalog,
      {
        vaultId: vault.id,
        serverId: s.id,
        key: `certificate-expiry:server:${s.id}`,
        notAfter: s.certNotAfter,
        what: `the client certificate of server ${s.name}`,
        hint: s.via === 'credentials' ? RENEWS_ITSELF : UPLOAD_NEW,
      },
      now,
    );
  }
  const pinned = new Set(servers.map((s) => s.certFingerprint));
  for (const c of await catalog.listCertificates(vault.id)) {
    const key = `certificate-expiry:certificate:${c.id}`;
    if (c.revokedAt !== null || pinned.has(c.fingerprint256)) {
      await resolveOpen(catalog, vault.id, key, now);
      continue;
    }
    const what = `the uploaded certificate "${c.subject}" (not used by a server yet)`;
    await expiryAlert(
      catalog,
      { vaultId: vault.id, serverId: null, key, notAfter: c.notAfter, what, hint: UPLOAD_NEW },
      now,
    );
  }
}

export async function checkAllCertificates(catalog: Catalog, now: number): Promise<void> {
  for (const vault of await catalog.listVaults()) await checkCertificateAlerts(catalog, vault, now);
}
