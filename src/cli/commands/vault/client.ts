import { readFile } from 'node:fs/promises';
import { BadInputError, errnoCode } from '../../../errors/index.ts';
import { ServerClient } from '../../../server/index.ts';
import { type CommandContext, str, UsageError } from '../../command.ts';

// The admin API client the vault subcommands share: $OFFSITE_SERVER, the token from
// --token-file or $OFFSITE_TOKEN, trusting only the CA in $OFFSITE_CA_CERT.

export async function readText(path: string, what: string, hint: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new BadInputError(
      'FILE_UNREADABLE',
      `cannot read the ${what} ${path} (${errnoCode(err) ?? 'error'})`,
      {
        hint,
      },
    );
  }
}

export async function adminClient(ctx: CommandContext): Promise<ServerClient> {
  const server = ctx.env.OFFSITE_SERVER;
  if (!server) throw new UsageError('set OFFSITE_SERVER to the vault server URL (https://HOST:PORT)');
  const caFile = ctx.env.OFFSITE_CA_CERT;
  if (!caFile) throw new UsageError("set OFFSITE_CA_CERT to the vault server's ca.pem");
  const tokenFile = str(ctx.values, 'token-file');
  const token = tokenFile
    ? (await readText(tokenFile, 'token file', 'give a readable --token-file')).trim()
    : ctx.env.OFFSITE_TOKEN?.trim();
  if (!token) throw new UsageError('give the API token with --token-file F or $OFFSITE_TOKEN');
  const caPem = await readText(caFile, 'CA certificate', "OFFSITE_CA_CERT must name the server's ca.pem");
  return new ServerClient({ server, token, caPem });
}
