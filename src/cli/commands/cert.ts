import { constants } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadInputError, ConflictError, errnoCode } from '../../errors/index.ts';
import {
  certificateDer,
  createSelfSignedClientCertificate,
  type KeyType,
  MAX_VALIDITY_DAYS,
  validateUploadedCertificate,
} from '../../pki/index.ts';
import { type Command, type CommandContext, str, UsageError } from '../command.ts';

/** The files `cert create` writes: the certificate as PEM and DER (.cer, for upload) and the key. */
const FILES = { pem: 'cert.pem', cer: 'cert.cer', key: 'key.pem' } as const;

export const certCommand: Command = {
  name: 'cert',
  summary: 'make a client certificate for vault registration, or check one',
  usage: 'offsite cert create --cn NAME --out DIR [--days N] [--key-type ec|rsa] | cert validate FILE',
  details:
    'create writes DIR/cert.pem, DIR/cert.cer (DER, to upload to a vault) and DIR/key.pem (mode 0600);\n' +
    'it never overwrites. validate lists every rule a vault applies to an uploaded certificate\n' +
    '(X.509 v3, RSA >= 2048 bits or EC P-256+, Client Authentication, valid now, at most 3 years)\n' +
    'and exits 1 when one is broken.',
  options: {
    cn: { type: 'string' },
    out: { type: 'string' },
    days: { type: 'string' },
    'key-type': { type: 'string' },
  },
  optionHelp: [
    ['--cn NAME', 'common name of the certificate (e.g. the server name)'],
    ['--out DIR', 'folder for cert.pem, cert.cer and key.pem (created if missing)'],
    ['--days N', `validity in days (default 365, at most ${MAX_VALIDITY_DAYS})`],
    ['--key-type ec|rsa', 'EC P-256 (default) or RSA 2048'],
  ],
  async run(ctx) {
    const [action, file] = ctx.positionals;
    if (action === 'create') return create(ctx);
    if (action === 'validate') {
      if (!file) throw new UsageError('give the certificate file to validate');
      return validate(ctx, file);
    }
    throw new UsageError('give create or validate');
  },
};

async function create(ctx: CommandContext): Promise<number> {
  const cn = str(ctx.values, 'cn');
  const dir = str(ctx.values, 'out');
  if (!cn || !dir) throw new UsageError('create needs --cn NAME and --out DIR');
  const days = Number(str(ctx.values, 'days') ?? 365);
  if (!Number.isInteger(days) || days < 1 || days > MAX_VALIDITY_DAYS) {
    throw new BadInputError('BAD_DAYS', `--days must be a whole number from 1 to ${MAX_VALIDITY_DAYS}`);
  }
  const keyType = str(ctx.values, 'key-type') ?? 'ec';
  if (keyType !== 'ec' && keyType !== 'rsa') throw new UsageError('--key-type is ec or rsa');
  const { certPem, keyPem } = createSelfSignedClientCertificate({
    commonName: cn,
    validDays: days,
    keyType: keyType as KeyType,
  });
  await mkdir(dir, { recursive: true });
  // The key first and exclusively: an existing key is never replaced.
  await writeNew(join(dir, FILES.key), keyPem, 0o600);
  await writeNew(join(dir, FILES.pem), certPem, 0o644);
  await writeNew(join(dir, FILES.cer), certificateDer(certPem), 0o644);
  ctx.out.data({ cert: join(dir, FILES.pem), der: join(dir, FILES.cer), key: join(dir, FILES.key), days });
  ctx.out.line(`certificate: ${join(dir, FILES.pem)} (DER for upload: ${join(dir, FILES.cer)})`);
  ctx.out.line(`private key: ${join(dir, FILES.key)} (keep it on this server; it never leaves it)`);
  return 0;
}

async function writeNew(path: string, data: string | Buffer, mode: number): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      mode,
    );
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') {
      throw new ConflictError('FILE_EXISTS', `${path} already exists; not overwriting it`, {
        hint: 'choose another --out folder',
      });
    }
    throw err;
  }
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function validate(ctx: CommandContext, file: string): Promise<number> {
  const result = validateUploadedCertificate(await readFile(file), new Date());
  ctx.out.data(result);
  if (result.certificate) {
    const c = result.certificate;
    ctx.out.line(`${file}: ${c.subject}, valid ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()}`);
    ctx.out.line(`fingerprint (SHA-256): ${c.fingerprint256}`);
  }
  for (const r of result.rules) ctx.out.line(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.rule.padEnd(12)}  ${r.detail}`);
  ctx.out.line(
    result.ok ? 'the certificate can be uploaded to a vault' : 'a vault would refuse this certificate',
  );
  return result.ok ? 0 : 1;
}
