import { readFileSync } from 'node:fs';
import { BadInputError, errnoCode } from '../../errors/index.ts';

/** The process environment, or a stand-in for it (tests, the CLI's context). */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * A credential from the environment: the variable `name` itself, or the file the variable
 * `name_FILE` points to (for secrets mounted as files: Docker/Kubernetes secrets, systemd
 * credentials). One trailing newline of the file is dropped. An empty variable counts as
 * unset (shells and service managers often export empty ones). Undefined when neither is
 * set. Errors name the variables and the file, never the value.
 */
export function secretFromEnv(env: Env, name: string): string | undefined {
  const direct = nonEmpty(env[name]);
  const file = nonEmpty(env[`${name}_FILE`]);
  if (direct !== undefined && file !== undefined) {
    throw new BadInputError('AMBIGUOUS_CREDENTIALS', `both ${name} and ${name}_FILE are set`, {
      hint: `set only one of ${name} and ${name}_FILE`,
    });
  }
  if (file === undefined) return direct;
  return readSecretFile(file, `${name}_FILE`);
}

function readSecretFile(path: string, variable: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new BadInputError(
      'BAD_CREDENTIALS_FILE',
      `cannot read ${path} (named by ${variable}): ${errnoCode(err) ?? 'unreadable'}`,
      { hint: `point ${variable} at a readable file that holds only the secret` },
    );
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '' || /[\r\n]/.test(secret)) {
    throw new BadInputError(
      'BAD_CREDENTIALS_FILE',
      `${path} (named by ${variable}) must hold the secret on one line`,
      {
        hint: `write only the secret into ${path}`,
      },
    );
  }
  return secret;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
