import { BadInputError } from '../../errors/index.ts';
import { isValidObjectName, MAX_NAME_LENGTH, validateObjectName, validatePrefix } from '../names.ts';

/**
 * Object names ↔ keys of a bucket or container under an optional key prefix ("a/b/").
 * Names are validated before the prefix is added, so "../" can never climb out of it,
 * and the whole key must fit the services' 1024-character limit (names are ASCII, so
 * characters and bytes agree).
 */
export class KeyPrefix {
  /** "" or a valid prefix ending with "/". */
  readonly prefix: string;

  /** `path`: "", "a/b" or "a/b/" (from a URL's path). */
  constructor(path: string) {
    const trimmed = path.replace(/\/$/, '');
    if (trimmed !== '' && !isValidObjectName(trimmed)) {
      throw new BadInputError('BAD_STORE_LOCATION', `the key prefix ${JSON.stringify(path)} is not valid`, {
        hint: 'a key prefix is slash-separated segments of A-Z a-z 0-9 . _ -',
      });
    }
    this.prefix = trimmed === '' ? '' : `${trimmed}/`;
    if (this.prefix.length >= MAX_NAME_LENGTH) {
      throw new BadInputError('BAD_STORE_LOCATION', `the key prefix is ${trimmed.length} characters long`, {
        hint: 'use a key prefix of a few segments',
      });
    }
  }

  /** The longest object name that fits under the prefix. */
  get maxNameLength(): number {
    return MAX_NAME_LENGTH - this.prefix.length;
  }

  key(name: string): string {
    validateObjectName(name);
    if (name.length > this.maxNameLength) {
      throw new BadInputError(
        'BAD_OBJECT_NAME',
        `bad object name (${name.length} characters): with the key prefix "${this.prefix}" it exceeds the ${MAX_NAME_LENGTH}-character key limit`,
        { hint: `names in this store are at most ${this.maxNameLength} characters` },
      );
    }
    return this.prefix + name;
  }

  listKey(prefix: string): string {
    return this.prefix + validatePrefix(prefix);
  }

  /** The object name of a listed key, or undefined for a key that is not one of ours. */
  nameOf(key: string): string | undefined {
    if (!key.startsWith(this.prefix)) return undefined;
    const name = key.slice(this.prefix.length);
    return isValidObjectName(name) ? name : undefined;
  }

  /** For `location`: "/a/b" or "". */
  get suffix(): string {
    return this.prefix === '' ? '' : `/${this.prefix.slice(0, -1)}`;
  }
}
