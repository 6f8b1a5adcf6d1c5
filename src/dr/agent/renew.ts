import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import type { SiteClient } from './client.ts';
import { type SiteAgentState, saveSiteAgentState } from './state.ts';

// The site agent renews its certificate (with a new key) when a third of its life is
// left, so it never stops at expiry. The state is saved before the new pair is used; the
// server stops accepting the old certificate as soon as it issued the new one.

export function renewalDue(certPem: string, now: number): boolean {
  const cert = new X509Certificate(certPem);
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  return now >= notAfter - (notAfter - notBefore) / 3;
}

export async function renewCertificate(state: SiteAgentState, client: SiteClient): Promise<SiteAgentState> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const answer = (await client.call('POST', '/v1/site-agent/renew', {
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  })) as { certificate: string };
  const renewed = {
    ...state,
    certPem: answer.certificate,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  await saveSiteAgentState(renewed);
  return renewed;
}
