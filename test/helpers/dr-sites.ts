// Two (or more) sites' TLS material for replication tests: a vault CA and site-agent
// certificates made with src/pki, each for both TLS client and server authentication
// (a site agent replicates out as a client and in as a server).
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import type { SiteTls } from '../../src/dr/replication/index.ts';
import { createCertificate, createCertificateAuthority } from '../../src/pki/index.ts';

export interface TestCa {
  certPem: string;
  keyPem: string;
}

export function makeCa(name = 'Test vault CA'): TestCa {
  return createCertificateAuthority({ commonName: name, validDays: 30 });
}

/** A site agent's certificate, signed by `ca`, named `commonName`, clientAuth + serverAuth. */
export function siteAgentTls(ca: TestCa, commonName: string, trust: TestCa = ca): SiteTls {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const certPem = createCertificate({
    subject: { commonName },
    publicKey: privateKey,
    signingKey: createPrivateKey(ca.keyPem),
    issuerCertPem: ca.certPem,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 7 * 86_400_000),
    extendedKeyUsage: ['clientAuth', 'serverAuth'],
  });
  return {
    caPem: trust.certPem,
    certPem,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
