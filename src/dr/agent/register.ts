import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BadInputError, errnoCode } from '../../errors/index.ts';
import { SiteClient } from './client.ts';
import { loadSiteAgentState, type SiteAgentState, saveSiteAgentState } from './state.ts';

// Registering a site agent with a site credentials file: it makes its own key pair (the
// key never leaves this machine) and the vault's CA certifies the public half.

interface SiteCredentialsFile {
  kind: string;
  version: number;
  server: string;
  site: { id: string; name: string };
  vault: { id: string; name: string };
  caPem: string;
  secret: string;
  expiresAt: string;
}

interface Registered {
  site: { id: string; name: string };
  certificate: string;
}

const NEW_FILE_HINT = 'make one with `offsite site credentials SITE --out FILE`';

export async function readSiteCredentialsFile(path: string, now: number): Promise<SiteCredentialsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new BadInputError(
      'FILE_UNREADABLE',
      `cannot read the site credentials file ${path} (${errnoCode(err) ?? 'error'})`,
    );
  }
  let file: SiteCredentialsFile;
  try {
    file = (JSON.parse(text) ?? {}) as SiteCredentialsFile;
  } catch {
    file = {} as SiteCredentialsFile;
  }
  const valid =
    file.kind === 'offsite-site-credentials' &&
    file.version === 1 &&
    typeof file.secret === 'string' &&
    typeof file.server === 'string' &&
    typeof file.caPem === 'string' &&
    typeof file.site?.name === 'string';
  if (!valid) {
    throw new BadInputError('NOT_SITE_CREDENTIALS_FILE', `${path} is not an Offsite site credentials file`, {
      hint: NEW_FILE_HINT,
    });
  }
  if (!(now < Date.parse(file.expiresAt))) {
    throw new BadInputError(
      'SITE_CREDENTIALS_EXPIRED',
      `the site credentials file expired at ${file.expiresAt}`,
      {
        hint: `a site credentials file is valid for 48 hours; ${NEW_FILE_HINT}`,
      },
    );
  }
  return file;
}

export async function registerSiteAgent(options: {
  dir: string;
  credentialsFile: string;
  force?: boolean;
  now?: number;
}): Promise<SiteAgentState> {
  const file = await readSiteCredentialsFile(options.credentialsFile, options.now ?? Date.now());
  const existing = options.force ? undefined : await loadSiteAgentState(options.dir);
  if (existing) {
    throw new BadInputError(
      'SITE_AGENT_ALREADY_REGISTERED',
      `this folder holds the site agent of site ${existing.info.site.name} already`,
      { hint: 'use another OFFSITE_SITE_AGENT_DIR, or --force to replace the registration' },
    );
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const client = new SiteClient({ server: file.server, caPem: file.caPem });
  const answer = (await client.call('POST', '/v1/site-agent/register', {
    secret: file.secret,
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  })) as Registered;
  const state: SiteAgentState = {
    dir: options.dir,
    info: {
      version: 1,
      server: file.server,
      site: { id: answer.site.id, name: answer.site.name },
      vault: file.vault,
      registeredAt: new Date().toISOString(),
    },
    caPem: file.caPem,
    certPem: answer.certificate,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  await saveSiteAgentState(state);
  return state;
}
