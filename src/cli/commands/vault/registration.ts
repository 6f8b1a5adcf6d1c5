import { readFile } from 'node:fs/promises';
import { BadInputError, errnoCode } from '../../../errors/index.ts';
import { writeAtomic } from '../../../util/index.ts';
import { str, UsageError } from '../../command.ts';
import { table } from '../../output.ts';
import { type VaultAction, vaultPath } from './action.ts';

// Registration from the administrator's side: vault credentials files, uploaded
// certificates, and the servers registered with a vault.

interface Server {
  id: string;
  name: string;
  via: string;
  certNotAfter: string;
  registeredAt: string;
  lastSeenAt: string | null;
}

interface Certificate {
  id: string;
  fingerprint256: string;
  subject: string;
  notAfter: string;
  revokedAt: string | null;
}

function args(list: string[], count: number, usage: string): string[] {
  if (list.length !== count) throw new UsageError(`usage: offsite vault ${usage}`);
  return list;
}

async function readCertificate(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new BadInputError(
      'FILE_UNREADABLE',
      `cannot read the certificate ${path} (${errnoCode(err) ?? 'error'})`,
    );
  }
  const text = bytes.toString('latin1');
  return text.includes('-----BEGIN') ? bytes.toString('utf8') : bytes.toString('base64');
}

const credentials: VaultAction = {
  name: 'credentials',
  usage: 'credentials NAME --out FILE',
  summary: 'download a vault credentials file (48 h, single use; older files stop working)',
  options: { out: { type: 'string' } },
  optionHelp: [['--out FILE', 'where to write the credentials file (mode 0600)']],
  async run(ctx, client, list) {
    const [name] = args(list, 1, this.usage);
    const out = str(ctx.values, 'out');
    if (!out) throw new UsageError('credentials needs --out FILE');
    const file = (await (await client()).call('POST', vaultPath(name!, '/credentials'))) as {
      expiresAt: string;
    };
    await writeAtomic(out, `${JSON.stringify(file, null, 2)}\n`, 0o600);
    ctx.out.data({ file: out, expiresAt: file.expiresAt });
    ctx.out.line(`vault credentials written to ${out} (valid until ${file.expiresAt}, single use)`);
    ctx.out.line(`on the server to protect: offsite agent register --credentials ${out}`);
    return 0;
  },
};

const cert: VaultAction = {
  name: 'cert',
  usage: 'cert upload NAME FILE | cert list NAME | cert revoke NAME ID',
  summary: 'upload, list or revoke client certificates of a vault',
  async run(ctx, client, list) {
    const [verb, ...rest] = list;
    if (verb === 'upload') {
      const [name, file] = args(rest, 2, 'cert upload NAME FILE');
      const body = { certificate: await readCertificate(file!) };
      const row = (await (
        await client()
      ).call('POST', vaultPath(name!, '/certificates'), body)) as Certificate;
      ctx.out.data(row);
      ctx.out.line(
        `certificate ${row.fingerprint256} (${row.subject}) uploaded; valid until ${row.notAfter}`,
      );
      ctx.out.line(
        `on that server: offsite agent register --server URL --vault ${name} --cert FILE --key KEYFILE`,
      );
      return 0;
    }
    if (verb === 'list') {
      const [name] = args(rest, 1, 'cert list NAME');
      const { certificates } = (await (await client()).call('GET', vaultPath(name!, '/certificates'))) as {
        certificates: Certificate[];
      };
      ctx.out.data({ certificates });
      const rows = certificates.map((c) => [
        c.fingerprint256.slice(0, 16),
        c.subject,
        c.notAfter,
        c.revokedAt ?? '-',
      ]);
      ctx.out.line(
        certificates.length
          ? table([['SHA-256', 'SUBJECT', 'NOT AFTER', 'REVOKED'], ...rows])
          : 'no certificates',
      );
      return 0;
    }
    if (verb === 'revoke') {
      const [name, id] = args(rest, 2, 'cert revoke NAME ID');
      const path = vaultPath(name!, `/certificates/${encodeURIComponent(id!)}/revoke`);
      const row = (await (await client()).call('POST', path)) as Certificate;
      ctx.out.data(row);
      ctx.out.line(`certificate ${row.fingerprint256} revoked; its agent is refused from now on`);
      return 0;
    }
    throw new UsageError(`usage: offsite vault ${this.usage}`);
  },
};

const servers: VaultAction = {
  name: 'servers',
  usage: 'servers NAME',
  summary: 'list the servers registered with a vault',
  async run(ctx, client, list) {
    const [name] = args(list, 1, this.usage);
    const answer = (await (await client()).call('GET', vaultPath(name!, '/servers'))) as {
      servers: Server[];
    };
    ctx.out.data(answer);
    const rows = answer.servers.map((s) => [
      s.name,
      s.via,
      s.registeredAt,
      s.lastSeenAt ?? 'never',
      s.certNotAfter,
    ]);
    ctx.out.line(
      rows.length
        ? table([['NAME', 'VIA', 'REGISTERED', 'LAST SEEN', 'CERT UNTIL'], ...rows])
        : 'no servers registered',
    );
    return 0;
  },
};

export const REGISTRATION_ACTIONS: VaultAction[] = [credentials, cert, servers];
