import { Agent } from 'node:https';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { AuthError } from '../../errors/index.ts';

// Who is at the other end. Both site agents hold certificates issued by the vault's CA;
// TLS proves the chain and the key, and these checks pin the identity: the subject's
// common name must be the site agent the workload names, for the role it plays.

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** The TLS material of a site agent: its certificate and key, and the vault CA it trusts. */
export interface SiteTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

function commonNameOf(cert: PeerCertificate | undefined): string | undefined {
  const cn = cert?.subject?.CN;
  return typeof cn === 'string' ? cn : undefined;
}

function hasUsage(cert: PeerCertificate, oid: string): boolean {
  // No extended key usage at all means any usage (RFC 5280 §4.2.1.12).
  return cert.ext_key_usage === undefined || cert.ext_key_usage.includes(oid);
}

/** The common name of a verified client certificate, or undefined when there is none. */
export function verifiedClientName(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0 || !hasUsage(cert, CLIENT_AUTH)) return undefined;
  return commonNameOf(cert);
}

/**
 * The https.Agent a sender uses to reach a replica: trusts only the vault CA and accepts
 * the server only when its certificate names `expectedName` (whatever host or address
 * was dialled: site agents are reached by address, their certificates name the agent).
 */
export function replicaAgent(tls: SiteTls, expectedName: string): Agent {
  return new Agent({
    keepAlive: true,
    maxSockets: 4,
    ca: tls.caPem,
    cert: tls.certPem,
    key: tls.keyPem,
    minVersion: 'TLSv1.2',
    checkServerIdentity: (_host, cert) => {
      const name = commonNameOf(cert);
      if (name === expectedName && hasUsage(cert, SERVER_AUTH)) return undefined;
      return new AuthError(
        'REPLICA_NOT_TRUSTED',
        `the replica presented the certificate of "${name ?? '(no name)'}", not of ${expectedName}`,
        { hint: 'check the replica address in the workload and that the right site agent listens there' },
      );
    },
  });
}
