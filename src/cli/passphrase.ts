import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BadInputError, errnoCode } from '../errors/index.ts';

export interface PassphraseSources {
  passwordFile?: string | undefined;
  env: NodeJS.ProcessEnv;
}

async function fromFile(path: string): Promise<string> {
  try {
    // One trailing newline is the file's, not the passphrase's.
    return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    throw new BadInputError(
      'PASSWORD_FILE_UNREADABLE',
      `cannot read the password file ${path} (${errnoCode(err) ?? 'error'})`,
    );
  }
}

/** Reads a line from the terminal without echoing it. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    return Promise.reject(
      new BadInputError('NO_PASSPHRASE', 'no passphrase given', {
        hint: 'set OFFSITE_PASSWORD or OFFSITE_PASSWORD_FILE, or pass --password-file',
      }),
    );
  }
  // Echo goes off before the prompt appears: a passphrase pasted (or typed by a script)
  // the moment the prompt shows must never be echoed.
  stdin.setRawMode(true);
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    stdin.resume();
    const done = (result: string | Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onData = (data: Buffer) => {
      for (const char of data.toString('utf8')) {
        if (char === '\r' || char === '\n') return done(value);
        if (char === '\u0003') return done(new BadInputError('CANCELLED', 'cancelled'));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.on('data', onData);
  });
}

/** --password-file, then OFFSITE_PASSWORD_FILE, then OFFSITE_PASSWORD, then a prompt. */
export async function readPassphrase(
  sources: PassphraseSources,
  question = 'Repository passphrase: ',
): Promise<string> {
  if (sources.passwordFile) return fromFile(sources.passwordFile);
  if (sources.env.OFFSITE_PASSWORD_FILE) return fromFile(sources.env.OFFSITE_PASSWORD_FILE);
  if (sources.env.OFFSITE_PASSWORD !== undefined && sources.env.OFFSITE_PASSWORD !== '')
    return sources.env.OFFSITE_PASSWORD;
  return promptHidden(question);
}

/** Asks twice when a person types a new passphrase, so a typo cannot lock them out. */
export async function readNewPassphrase(
  sources: PassphraseSources,
  question = 'New passphrase: ',
): Promise<string> {
  const explicit = sources.passwordFile ?? sources.env.OFFSITE_PASSWORD_FILE ?? sources.env.OFFSITE_PASSWORD;
  const first = await readPassphrase(sources, question);
  if (explicit) return first;
  const second = await promptHidden('Repeat it: ');
  if (first !== second) throw new BadInputError('PASSPHRASE_MISMATCH', 'the two passphrases differ');
  return first;
}

/** 32 characters from 192 random bits: far beyond guessing, still typeable. */
export function generatePassphrase(): string {
  return randomBytes(24).toString('base64url');
}
