import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BadInputError, IntegrityError } from '../errors/index.ts';
import { createCertificateAuthority, issueCertificate } from '../pki/index.ts';
import { parseRegionUrl } from '../storage/index.ts';
import { ensureMode, readIfExists, writeAtomic } from '../util/index.ts';
import { type Catalog, PostgresCatalog, SqliteCatalog } from '../vault/catalog/index.ts';
import { hashToken, newToken } from './auth.ts';
import type { Region } from './types.ts';

// First start in a data folder creates the catalog, the CA, the server's TLS certificate
// and the admin token; later starts reuse them (the server certificate is re-issued when
// the listen host changes or it nears expiry).

export const CA_DAYS = 3650;
export const SERVER_CERT_DAYS = 397;
/** Re-issue the server certificate when fewer days than this remain. */
const RENEW_DAYS = 30;
const DAY_MS = 86_400_000;

export function dataFiles(dataDir: string) {
  return {
    catalog: join(dataDir, 'catalog.sqlite'),
    caCert: join(dataDir, 'ca.pem'),
    caKey: join(dataDir, 'ca-key.pem'),
    serverCert: join(dataDir, 'server.pem'),
    serverKey: join(dataDir, 'server-key.pem'),
    adminToken: join(dataDir, 'admin-token'),
    regions: join(dataDir, 'regions'),
  };
}

export type DataFiles = ReturnType<typeof dataFiles>;

/**
 * 'NAME=URL' → a region: file:///absolute/path, azure://ACCOUNT/CONTAINER[/PREFIX] or
 * s3://BUCKET[/PREFIX]?endpoint=…; credentials come from the environment, never the URL.
 */
export function parseRegion(spec: string): Region {
  const { name, url } = parseRegionUrl(spec);
  return { name, url };
}

function regionsOrDefault(regions: readonly Region[], files: DataFiles): Region[] {
  if (regions.length === 0) return [{ name: 'local', url: pathToFileURL(join(files.regions, 'local')).href }];
  const names = new Set<string>();
  for (const r of regions) {
    if (names.has(r.name)) throw new BadInputError('BAD_REGION', `region ${r.name} is given twice`);
    names.add(r.name);
  }
  return [...regions];
}

export interface Authority {
  certPem: string;
  keyPem: string;
}

/**
 * The key is written before the certificate, so "key without certificate" means a first
 * start was interrupted (nothing was issued yet) and is redone; a certificate without its
 * key cannot sign again and is refused.
 */
async function loadOrCreateCa(files: DataFiles): Promise<Authority> {
  const certPem = await readIfExists(files.caCert);
  const keyPem = await readIfExists(files.caKey);
  if (certPem !== undefined && keyPem !== undefined) {
    await ensureMode(files.caKey, 0o600);
    return { certPem, keyPem };
  }
  if (certPem !== undefined) {
    throw new IntegrityError('CA_KEY_MISSING', `${files.caCert} exists but ${files.caKey} does not`, {
      hint: 'restore ca-key.pem from a backup; agents trust this CA, so it cannot simply be replaced',
    });
  }
  const ca = createCertificateAuthority({ commonName: 'Offsite vault CA', validDays: CA_DAYS });
  await writeAtomic(files.caKey, ca.keyPem, 0o600);
  await writeAtomic(files.caCert, ca.certPem, 0o644);
  return ca;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/**
 * The names the certificate must cover: the listen host, localhost, 127.0.0.1 and the
 * public host agents use (one name in front of several instances, TLS passed through).
 */
export function serverNames(host: string, publicHost?: string) {
  const dnsNames = new Set(['localhost']);
  const ipAddresses = new Set(['127.0.0.1']);
  if (publicHost) {
    if (isIP(publicHost)) ipAddresses.add(publicHost);
    else dnsNames.add(publicHost.toLowerCase());
  }
  if (isWildcard(host)) dnsNames.add(hostname());
  else if (isIP(host)) ipAddresses.add(host);
  else dnsNames.add(host.toLowerCase());
  return { dnsNames: [...dnsNames], ipAddresses: [...ipAddresses] };
}

function certStillGood(
  certPem: string,
  ca: Authority,
  host: string,
  now: number,
  publicHost?: string,
): boolean {
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.verify(new X509Certificate(ca.certPem).publicKey)) return false;
    if (Date.parse(cert.validTo) - now < RENEW_DAYS * DAY_MS) return false;
    const names = serverNames(host, publicHost);
    return (
      names.dnsNames.every((n) => cert.checkHost(n) !== undefined) &&
      names.ipAddresses.every((ip) => cert.checkIP(ip) !== undefined)
    );
  } catch {
    return false;
  }
}

async function loadOrIssueServerCert(
  files: DataFiles,
  ca: Authority,
  host: string,
  now: number,
  publicHost?: string,
) {
  const certPem = await readIfExists(files.serverCert);
  const keyPem = await readIfExists(files.serverKey);
  if (certPem !== undefined && keyPem !== undefined && certStillGood(certPem, ca, host, now, publicHost)) {
    await ensureMode(files.serverKey, 0o600);
    return { certPem, keyPem };
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const fresh = issueCertificate({
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    publicKey: privateKey,
    commonName: isWildcard(host) ? hostname() : host,
    usage: 'server',
    ...serverNames(host, publicHost),
    validDays: SERVER_CERT_DAYS,
    now: new Date(now),
  });
  const freshKey = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await writeAtomic(files.serverKey, freshKey, 0o600);
  await writeAtomic(files.serverCert, fresh, 0o644);
  return { certPem: fresh, keyPem: freshKey };
}

/**
 * The file is written before its hash is stored, and a file whose hash is missing from
 * the catalog is stored again, so an interrupted first start heals itself. A revoked
 * admin token stays revoked.
 */
async function ensureAdminToken(files: DataFiles, catalog: Catalog, now: number): Promise<void> {
  let token = (await readIfExists(files.adminToken))?.trim();
  if (!token) {
    token = newToken();
    await writeAtomic(files.adminToken, `${token}\n`, 0o600);
  }
  await ensureMode(files.adminToken, 0o600);
  const tokenHash = hashToken(token);
  const known = (await catalog.listTokens()).some((t) => t.tokenHash === tokenHash);
  if (!known) {
    await catalog.createToken({
      tokenHash,
      name: 'admin',
      role: 'owner',
      vaultId: null,
      createdAt: now,
      expiresAt: null,
    });
  }
}

/** Folders of file:// regions are made here; containers and buckets must exist already. */
async function ensureRegionDirs(regions: readonly Region[]): Promise<void> {
  for (const region of regions) {
    if (region.url.startsWith('file:'))
      await mkdir(fileURLToPath(region.url), { recursive: true, mode: 0o700 });
  }
}

export interface BootstrapOptions {
  dataDir: string;
  /** The listen host; the server certificate covers it. */
  host: string;
  regions: readonly Region[];
  /** postgres://… for a catalog several vault servers share; default the embedded SQLite file. */
  catalogUrl?: string;
  /** The host name agents reach the server by, when it is not the listen host. */
  publicHost?: string;
  now?: number;
}

export interface Bootstrapped {
  files: DataFiles;
  catalog: Catalog;
  caPem: string;
  /** The CA's certificate and key: it issues agents their client certificates. */
  ca: Authority;
  tls: { certPem: string; keyPem: string };
  regions: Region[];
}

export async function bootstrap(options: BootstrapOptions): Promise<Bootstrapped> {
  const now = options.now ?? Date.now();
  const files = dataFiles(options.dataDir);
  const regions = regionsOrDefault(options.regions, files);
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  await ensureRegionDirs(regions);
  const ca = await loadOrCreateCa(files);
  const tls = await loadOrIssueServerCert(files, ca, options.host, now, options.publicHost);
  // Several vault servers share one PostgreSQL catalog; one server alone embeds SQLite.
  const catalog: Catalog = options.catalogUrl
    ? await PostgresCatalog.open(options.catalogUrl)
    : SqliteCatalog.open(files.catalog);
  try {
    await ensureAdminToken(files, catalog, now);
  } catch (err) {
    await catalog.close();
    throw err;
  }
  return { files, catalog, caPem: ca.certPem, ca, tls, regions };
}
