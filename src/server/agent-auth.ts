import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { AuthError } from '../errors/index.ts';
import { certificateFingerprint } from '../pki/index.ts';
import type { Catalog } from '../vault/catalog/index.ts';
import type { AgentIdentity, PeerCertificate } from './types.ts';

// Agents authenticate by the client certificate of their TLS connection. The handshake
// already proved the agent holds the certificate's private key (TLS checks the
// CertificateVerify signature whatever the chain says); the catalog then pins the
// certificate's SHA-256 to one registered server. Chain validation is not what admits
// an agent: an uploaded certificate is self-signed, and an issued one is pinned too.

const UNREGISTERED_HINT = 'register this machine with `offsite agent register`';

/** The connection's client certificate, or undefined when none was presented. */
export function peerCertificate(request: IncomingMessage): PeerCertificate | undefined {
  const socket = request.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate(false);
  if (!cert?.raw || cert.raw.length === 0) return undefined;
  return {
    fingerprint256: certificateFingerprint(cert.raw),
    der: cert.raw,
    notBefore: Date.parse(cert.valid_from),
    notAfter: Date.parse(cert.valid_to),
  };
}

/** The presented certificate; CLIENT_CERT_REQUIRED (401) without one, CERT_EXPIRED when outside its validity. */
export function requirePeer(request: IncomingMessage, now: number): PeerCertificate {
  const peer = peerCertificate(request);
  if (!peer) {
    throw new AuthError('CLIENT_CERT_REQUIRED', 'this endpoint needs a client certificate', {
      hint: UNREGISTERED_HINT,
    });
  }
  if (!(now < peer.notAfter)) {
    throw new AuthError('CERT_EXPIRED', 'the client certificate has expired', {
      hint: 'register the agent again with a new vault credentials file or certificate',
    });
  }
  if (now < peer.notBefore) {
    throw new AuthError('CERT_NOT_YET_VALID', 'the client certificate is not valid yet', {
      hint: "check this machine's clock",
    });
  }
  return peer;
}

/** The registered server behind a client certificate, with its vault. */
export async function authenticateAgent(
  peer: PeerCertificate,
  catalog: Catalog,
  now: number,
): Promise<AgentIdentity> {
  const server = await catalog.findServerByFingerprint(peer.fingerprint256);
  if (!server) {
    throw new AuthError('AGENT_NOT_REGISTERED', 'this client certificate is not registered with any vault', {
      hint: UNREGISTERED_HINT,
    });
  }
  if (server.via === 'certificate') {
    const uploaded = await catalog.findCertificate(peer.fingerprint256);
    if (uploaded?.revokedAt != null) {
      throw new AuthError('CERT_REVOKED', 'this client certificate was revoked by an administrator', {
        hint: 'upload a new certificate to the vault and register the agent again',
      });
    }
  }
  const vault = await catalog.getVault(server.vaultId);
  if (vault.deletedAt !== null) {
    throw new AuthError('VAULT_DELETED', `the vault "${vault.name}" of this agent was deleted`);
  }
  await catalog.touchServer(server.id, now);
  return { server, vault };
}
