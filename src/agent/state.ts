import { mkdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BadInputError, IntegrityError } from '../errors/index.ts';
import { readIfExists, writeAtomic } from '../util/index.ts';

// The agent's state on the protected server: which vault server and vault it belongs to,
// its client certificate and key, and the vault's CA. One folder per agent
// ($OFFSITE_AGENT_DIR), so several agents can run on one machine. The key file is 0600
// and the folder 0700; nothing here is the backup passphrase.

export interface AgentInfo {
  version: 1;
  /** https://host:port of the vault server. */
  server: string;
  vault: { id: string; name: string };
  serverId: string;
  name: string;
  via: 'credentials' | 'certificate';
  registeredAt: string;
}

export interface AgentState {
  dir: string;
  info: AgentInfo;
  caPem: string;
  certPem: string;
  keyPem: string;
}

export function agentDir(env: NodeJS.ProcessEnv): string {
  if (env.OFFSITE_AGENT_DIR) return env.OFFSITE_AGENT_DIR;
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(config, 'offsite', 'agent');
}

export function agentFiles(dir: string) {
  return {
    info: join(dir, 'agent.json'),
    ca: join(dir, 'ca.pem'),
    cert: join(dir, 'client.pem'),
    key: join(dir, 'client-key.pem'),
  };
}

/** The agent's state, or undefined when this folder holds no registration. */
export async function loadAgentState(dir: string): Promise<AgentState | undefined> {
  const files = agentFiles(dir);
  const text = await readIfExists(files.info);
  if (text === undefined) return undefined;
  let info: AgentInfo;
  try {
    info = JSON.parse(text) as AgentInfo;
  } catch {
    throw new IntegrityError('AGENT_STATE_DAMAGED', `${files.info} is not valid JSON`, {
      hint: 'register the agent again with `offsite agent register`',
    });
  }
  const [caPem, certPem, keyPem] = await Promise.all([
    readIfExists(files.ca),
    readIfExists(files.cert),
    readIfExists(files.key),
  ]);
  if (!caPem || !certPem || !keyPem) {
    throw new IntegrityError(
      'AGENT_STATE_DAMAGED',
      `the agent folder ${dir} is missing its certificate or key`,
      {
        hint: 'register the agent again with `offsite agent register`',
      },
    );
  }
  return { dir, info, caPem, certPem, keyPem };
}

/** Like loadAgentState, but an unregistered folder is an error saying what to do. */
export async function requireAgentState(dir: string): Promise<AgentState> {
  const state = await loadAgentState(dir);
  if (!state) {
    throw new BadInputError('AGENT_NOT_REGISTERED', `no agent is registered in ${dir}`, {
      hint: 'run `offsite agent register --credentials FILE` (or set OFFSITE_AGENT_DIR)',
    });
  }
  return state;
}

/** Key first, then certificate, CA, and agent.json last: agent.json means "complete". */
export async function saveAgentState(state: AgentState): Promise<void> {
  await mkdir(state.dir, { recursive: true, mode: 0o700 });
  const mode = (await stat(state.dir)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new BadInputError(
      'AGENT_DIR_OPEN',
      `the agent folder ${state.dir} is readable by others (mode ${mode.toString(8)})`,
      {
        hint: `chmod 700 ${state.dir}`,
      },
    );
  }
  const files = agentFiles(state.dir);
  await writeAtomic(files.key, state.keyPem, 0o600);
  await writeAtomic(files.cert, state.certPem, 0o644);
  await writeAtomic(files.ca, state.caPem, 0o644);
  await writeAtomic(files.info, `${JSON.stringify(state.info, null, 2)}\n`, 0o644);
}
