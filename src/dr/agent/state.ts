import { chmod, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BadInputError, IntegrityError } from '../../errors/index.ts';
import { readIfExists, writeAtomic } from '../../util/index.ts';

// The site agent's state on its machine: the server it reports to, its site, the vault's
// CA and the certificate and key the vault issued it (the same pair serves mutual TLS
// between site agents when they replicate). One folder per site agent
// ($OFFSITE_SITE_AGENT_DIR), mode 0700; every file in it 0600.

export interface SiteAgentInfo {
  version: 1;
  /** https://host:port of the vault server. */
  server: string;
  site: { id: string; name: string };
  vault: { id: string; name: string };
  registeredAt: string;
}

export interface SiteAgentState {
  dir: string;
  info: SiteAgentInfo;
  caPem: string;
  certPem: string;
  keyPem: string;
}

export function siteAgentDir(env: NodeJS.ProcessEnv): string {
  if (env.OFFSITE_SITE_AGENT_DIR) return env.OFFSITE_SITE_AGENT_DIR;
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(config, 'offsite', 'site-agent');
}

export function siteAgentFiles(dir: string) {
  return {
    info: join(dir, 'site-agent.json'),
    ca: join(dir, 'ca.pem'),
    cert: join(dir, 'site-agent.pem'),
    key: join(dir, 'site-agent-key.pem'),
    /** Written by the replication data plane: its health per workload, sent with each heartbeat. */
    replicationHealth: join(dir, 'replication-health.json'),
  };
}

const REGISTER_HINT = 'register it with `offsite site-agent register --credentials FILE`';

/** The state, or undefined when the folder holds no registration. */
export async function loadSiteAgentState(dir: string): Promise<SiteAgentState | undefined> {
  const files = siteAgentFiles(dir);
  const text = await readIfExists(files.info);
  if (text === undefined) return undefined;
  let info: SiteAgentInfo;
  try {
    info = JSON.parse(text) as SiteAgentInfo;
  } catch {
    throw new IntegrityError('SITE_AGENT_STATE_DAMAGED', `${files.info} is not valid JSON`, {
      hint: REGISTER_HINT,
    });
  }
  const [caPem, certPem, keyPem] = await Promise.all([
    readIfExists(files.ca),
    readIfExists(files.cert),
    readIfExists(files.key),
  ]);
  if (!caPem || !certPem || !keyPem) {
    throw new IntegrityError(
      'SITE_AGENT_STATE_DAMAGED',
      `${dir} is missing the site agent's certificate or key`,
      {
        hint: REGISTER_HINT,
      },
    );
  }
  return { dir, info, caPem, certPem, keyPem };
}

export async function requireSiteAgentState(dir: string): Promise<SiteAgentState> {
  const state = await loadSiteAgentState(dir);
  if (!state) {
    throw new BadInputError('SITE_AGENT_NOT_REGISTERED', `no site agent is registered in ${dir}`, {
      hint: `set OFFSITE_SITE_AGENT_DIR to its folder, or ${REGISTER_HINT}`,
    });
  }
  return state;
}

/** Key and certificate first, the info file last: a crash never leaves info without its key. */
export async function saveSiteAgentState(state: SiteAgentState): Promise<void> {
  await mkdir(state.dir, { recursive: true, mode: 0o700 });
  await chmod(state.dir, 0o700);
  const files = siteAgentFiles(state.dir);
  await writeAtomic(files.key, state.keyPem, 0o600);
  await writeAtomic(files.cert, state.certPem, 0o600);
  await writeAtomic(files.ca, state.caPem, 0o600);
  await writeAtomic(files.info, `${JSON.stringify(state.info, null, 2)}\n`, 0o600);
}
