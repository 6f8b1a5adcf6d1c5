import { agentDir, registerWithCertificate, registerWithCredentialsFile } from '../../../agent/index.ts';
import { type CommandContext, str, UsageError } from '../../command.ts';
import { readText } from '../vault/client.ts';
import type { AgentAction } from './action.ts';

// Registering this machine with a vault.

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

export const REGISTER_ACTIONS: AgentAction[] = [
  {
    name: 'register',
    usage:
      'register --credentials FILE [--name NAME] | register --server URL --vault NAME --cert FILE --key FILE [--ca FILE]',
    summary: 'register this machine with a vault (by credentials file or uploaded certificate)',
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
      ['--cert FILE, --key FILE', 'the uploaded certificate (PEM or DER) and its private key (PEM)'],
      ['--ca FILE', "the vault server's ca.pem (default: $OFFSITE_CA_CERT)"],
      ['--force', 'replace an existing registration in this agent folder'],
    ],
    run: (ctx, args) => {
      if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
      return register(ctx);
    },
  },
];
