import { createHash, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { AuthError, BadInputError } from '../../errors/index.ts';
import { certificateFingerprint, createCertificate } from '../../pki/index.ts';
import type { Catalog, SiteAgentRow, SiteRow, VaultRow } from '../catalog/index.ts';
import { type Authority, checkPublicKey } from '../registration.ts';
import { SITE_AGENT_ORGANIZATION, SITE_NAME_PATTERN, SITE_NAME_RULE, siteAgentCommonName } from './names.ts';

// Sites and their site agents. A site agent registers with a site credentials file (like
// a vault credentials file: short-lived, single use, only the newest valid); it makes its
// own key pair and the vault's CA certifies it, for two uses: calling this server (the
// catalog pins the certificate's fingerprint to the site) and mutual TLS with the other
// site agents when they replicate (the certificate names the site).

export const SITE_CREDENTIALS_VALID_MS = 48 * 3_600_000;
export const SITE_AGENT_CERT_DAYS = 90;
const DAY_MS = 86_400_000;

/** What `offsite site credentials NAME --out FILE` writes: all a site agent needs to register. */
export interface SiteCredentialsFile {
  kind: 'offsite-site-credentials';
  version: 1;
  server: string;
  site: { id: string; name: string };
  vault: { id: string; name: string };
  /** The vault server's CA: the site agent trusts nothing else. */
  caPem: string;
  /** Single use; the catalog keeps only its SHA-256. */
  secret: string;
  issuedAt: string;
  expiresAt: string;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function checkSiteName(name: unknown): string {
  if (typeof name !== 'string' || !SITE_NAME_PATTERN.test(name)) {
    throw new BadInputError('BAD_SITE_NAME', `a site name is ${SITE_NAME_RULE}`);
  }
  return name;
}

export async function createSite(
  catalog: Catalog,
  vault: VaultRow,
  name: unknown,
  now: number,
): Promise<SiteRow> {
  if (vault.deletedAt !== null)
    throw new BadInputError('VAULT_DELETED', `the vault "${vault.name}" is deleted`);
  return catalog.createSite({ vaultId: vault.id, name: checkSiteName(name), createdAt: now });
}

export async function issueSiteCredentials(
  catalog: Catalog,
  site: SiteRow,
  options: { serverUrl: string; caPem: string; now: number },
): Promise<SiteCredentialsFile> {
  const vault = await catalog.getVault(site.vaultId);
  const secret = randomBytes(32).toString('base64url');
  const row = await catalog.issueSiteCredentials({
    siteId: site.id,
    secretHash: sha256(secret),
    issuedAt: options.now,
    expiresAt: options.now + SITE_CREDENTIALS_VALID_MS,
  });
  return {
    kind: 'offsite-site-credentials',
    version: 1,
    server: options.serverUrl,
    site: { id: site.id, name: site.name },
    vault: { id: vault.id, name: vault.name },
    caPem: options.caPem,
    secret,
    issuedAt: new Date(row.issuedAt).toISOString(),
    expiresAt: new Date(row.expiresAt).toISOString(),
  };
}

/** Client and server authentication: the same certificate calls this server and serves replication. */
export function issueSiteAgentCertificate(
  ca: Authority,
  publicKeyPem: unknown,
  site: string,
  now: number,
): string {
  const key = checkPublicKey(publicKeyPem);
  const start = Math.floor(now / 1000) * 1000 - 5 * 60_000;
  return createCertificate({
    subject: { commonName: siteAgentCommonName(site), organization: SITE_AGENT_ORGANIZATION },
    publicKey: key,
    signingKey: createPrivateKey(ca.keyPem),
    issuerCertPem: ca.certPem,
    notBefore: new Date(start),
    notAfter: new Date(start + SITE_AGENT_CERT_DAYS * DAY_MS),
    extendedKeyUsage: ['clientAuth', 'serverAuth'],
    dnsNames: [site],
  });
}

export interface SiteRegistration {
  site: SiteRow;
  vault: VaultRow;
  agent: SiteAgentRow;
  certPem: string;
}

/** Consumes the site credentials file and (re-)registers the site's agent under a new certificate. */
export async function registerSiteAgent(
  catalog: Catalog,
  ca: Authority,
  input: { secret: unknown; publicKey: unknown },
  now: number,
): Promise<SiteRegistration> {
  if (typeof input.secret !== 'string' || input.secret.length > 200) {
    throw new BadInputError('BAD_CREDENTIALS', 'secret must be the secret of a site credentials file');
  }
  checkPublicKey(input.publicKey);
  return catalog.transaction(async (tx) => {
    const credentials = await tx.consumeSiteCredentials(sha256(input.secret as string), now);
    const site = await tx.getSite(credentials.siteId);
    const vault = await tx.getVault(site.vaultId);
    if (site.deletedAt !== null) throw new AuthError('SITE_DELETED', `the site "${site.name}" was deleted`);
    if (vault.deletedAt !== null)
      throw new AuthError('VAULT_DELETED', `the vault "${vault.name}" was deleted`);
    const certPem = issueSiteAgentCertificate(ca, input.publicKey, site.name, now);
    const agent = await tx.registerSiteAgent({
      siteId: site.id,
      certFingerprint: certificateFingerprint(certPem),
      certNotAfter: Date.parse(new X509Certificate(certPem).validTo),
      registeredAt: now,
    });
    return { site, vault, agent, certPem };
  });
}

/** A new certificate for a registered site agent (its key may be new too); the old one stops opening anything. */
export async function renewSiteAgentCertificate(
  catalog: Catalog,
  ca: Authority,
  site: SiteRow,
  publicKey: unknown,
  now: number,
): Promise<string> {
  const certPem = issueSiteAgentCertificate(ca, publicKey, site.name, now);
  await catalog.registerSiteAgent({
    siteId: site.id,
    certFingerprint: certificateFingerprint(certPem),
    certNotAfter: Date.parse(new X509Certificate(certPem).validTo),
    registeredAt: now,
  });
  return certPem;
}

/** The site behind a client certificate; SITE_AGENT_NOT_REGISTERED for any other certificate. */
export async function authenticateSiteAgent(
  catalog: Catalog,
  fingerprint256: string,
): Promise<{ site: SiteRow; agent: SiteAgentRow }> {
  const agent = await catalog.findSiteAgentByFingerprint(fingerprint256);
  if (!agent) {
    throw new AuthError(
      'SITE_AGENT_NOT_REGISTERED',
      'this client certificate is not a registered site agent',
      {
        hint: 'register the site agent with `offsite site-agent register --credentials FILE`',
      },
    );
  }
  const site = await catalog.getSite(agent.siteId);
  const vault = await catalog.getVault(site.vaultId);
  if (site.deletedAt !== null || vault.deletedAt !== null) {
    throw new AuthError('SITE_DELETED', `the site "${site.name}" of this site agent was deleted`);
  }
  return { site, agent };
}
