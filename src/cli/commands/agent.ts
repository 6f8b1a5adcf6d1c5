import { X509Certificate } from 'node:crypto';
import {
  agentClient,
  agentDir,
  registerWithCertificate,
  registerWithCredentialsFile,
  requireAgentState,
} from '../../agent/index.ts';
import { type Command, type CommandContext, str, UsageError } from '../command.ts';
import { readText } from './vault/client.ts';

// `offsite agent ...`: this machine's registration with a vault.

async function register(ctx: CommandContext): Promise<number> {
  const dir = agentDir(ctx.env);
  const name = str(ctx.values, 'name');
  const force = ctx.values.force === true;
  const credentialsFile = str(ctx.values, 'credentials');
  let state: Awaited<ReturnType<typeof registerWithCredentialsFile>>;
  if (credentialsFile) {
    state = await registerWithCredentialsFile({ dir, credentialsFile, name, force });
  } else {
    const server = str(ctx.values, 'server');
    const vault = str(ctx.values, 'vault');
    const certFile = str(ctx.values, 'cert');
    const keyFile = str(ctx.values, 'key');
    if (!server || !vault || !certFile || !keyFile) {
      throw new UsageError('give --credentials FILE, or --server URL --vault NAME --cert FILE --key FILE');
    }
    const caFile = str(ctx.values, 'ca') ?? ctx.env.OFFSITE_CA_CERT;
    if (!caFile) throw new UsageError("give --ca FILE (or $OFFSITE_CA_CERT): the vault server's ca.pem");
    const caPem = await readText(caFile, 'CA certificate', "give the vault server's ca.pem");
    state = await registerWithCertificate({ dir, server, vault, certFile, keyFile, caPem, name, force });
  }
  ctx.out.data({ dir, ...state.info });
  ctx.out.line(
    `registered as server ${state.info.name} in vault ${state.info.vault.name} at ${state.info.server}`,
  );
  ctx.out.line(`agent state: ${dir}`);
  ctx.out.line(
    'next: offsite init (choose the passphrase; it never leaves this machine), then offsite backup PATH',
  );
  return 0;
}

async function status(ctx: CommandContext): Promise<number> {
  const state = await requireAgentState(agentDir(ctx.env));
  const cert = new X509Certificate(state.certPem);
  const who = (await agentClient(state).call('GET', '/v1/agent/whoami')) as { policy: unknown };
  const info = {
    ...state.info,
    dir: state.dir,
    certificateNotAfter: new Date(cert.validTo).toISOString(),
    policy: who.policy,
  };
  ctx.out.data(info);
  ctx.out.line(`server:       ${state.info.name} (${state.info.serverId})`);
  ctx.out.line(`vault:        ${state.info.vault.name} at ${state.info.server}`);
  ctx.out.line(`registered:   ${state.info.registeredAt} by ${state.info.via}`);
  ctx.out.line(`certificate:  valid until ${info.certificateNotAfter}`);
  ctx.out.line(`policy:       ${who.policy ? JSON.stringify(who.policy) : 'none set'}`);
  return 0;
}

export const agentCommand: Command = {
  name: 'agent',
  summary: "register this machine with a vault and show the agent's state",
  usage:
    'offsite agent register --credentials FILE [--name NAME] | register --server URL --vault NAME --cert FILE --key FILE [--ca FILE] | status',
  details:
    'The agent keeps its state (client certificate and key, vault address) in $OFFSITE_AGENT_DIR\n' +
    '(default ~/.config/offsite/agent), so several agents can run on one machine. Once\n' +
    'registered, init, backup, restore, snapshots, ls and check work against the vault without --repo.',
  options: {
    credentials: { type: 'string' },
    name: { type: 'string' },
    server: { type: 'string' },
    vault: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    ca: { type: 'string' },
    force: { type: 'boolean' },
  },
  optionHelp: [
    ['--credentials FILE', 'a vault credentials file (from `offsite vault credentials`)'],
    ['--name NAME', 'the name of this server in the vault (default: the host name)'],
    ['--server URL', 'vault server URL, with an uploaded certificate'],
    ['--vault NAME', 'the vault the certificate was uploaded to'],
    ['--cert FILE, --key FILE', 'the uploaded certificate and its private key (PEM)'],
    ['--ca FILE', "the vault server's ca.pem (default: $OFFSITE_CA_CERT)"],
    ['--force', 'replace an existing registration in this agent folder'],
  ],
  async run(ctx) {
    const [action, extra] = ctx.positionals;
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    if (action === 'register') return register(ctx);
    if (action === 'status') return status(ctx);
    throw new UsageError('give register or status');
  },
};
