import { createPublicKey, X509Certificate } from 'node:crypto';
import { ServerClient } from '../server/client.ts';
import { type BlobStore, HttpBlobStore, RetryStore } from '../storage/index.ts';
import { writeAtomic } from '../util/index.ts';
import { renewalDue } from '../vault/registration.ts';
import { type AgentState, agentFiles } from './state.ts';

// The agent's connection to its vault: the JSON API client and the repository store,
// both authenticated by the agent's client certificate. The certificate is renewed
// (same key, new certificate) when a third of its life is left.

export function agentClient(state: AgentState): ServerClient {
  return new ServerClient({
    server: state.info.server,
    caPem: state.caPem,
    certPem: state.certPem,
    keyPem: state.keyPem,
  });
}

/** The agent's repository in the vault, with transient failures retried. */
export function vaultRepoStore(state: AgentState): BlobStore {
  return new RetryStore(
    new HttpBlobStore({
      url: state.info.server,
      caPem: state.caPem,
      certPem: state.certPem,
      keyPem: state.keyPem,
    }),
  );
}

/** Renews the client certificate when due; returns the state to use from now on. */
export async function renewIfDue(state: AgentState, now = Date.now()): Promise<AgentState> {
  if (state.info.via !== 'credentials') return state;
  const cert = new X509Certificate(state.certPem);
  if (!renewalDue(Date.parse(cert.validFrom), Date.parse(cert.validTo), now)) return state;
  const publicKey = createPublicKey(state.keyPem).export({ type: 'spki', format: 'pem' }).toString();
  const answer = (await agentClient(state).call('POST', '/v1/agent/renew', { publicKey })) as {
    certificate: string;
  };
  await writeAtomic(agentFiles(state.dir).cert, answer.certificate, 0o644);
  return { ...state, certPem: answer.certificate };
}
