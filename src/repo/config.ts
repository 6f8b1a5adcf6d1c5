import { randomBytes } from 'node:crypto';
import { IntegrityError } from '../errors/index.ts';
import { DEFAULT_CHUNKER_PARAMS } from './chunker.ts';

/** The repository's parameters; sealed under the master key in the object `config`. */
export interface RepoConfig {
  version: 1;
  id: string;
  created: string;
  chunker: { min: number; avg: number; max: number };
  compressionLevel: number;
  packSize: number;
}

export const DEFAULT_PACK_SIZE = 16 * 1024 * 1024;

export function newConfig(
  overrides: Partial<Pick<RepoConfig, 'chunker' | 'compressionLevel' | 'packSize'>> = {},
): RepoConfig {
  return {
    version: 1,
    id: randomBytes(16).toString('hex'),
    created: new Date().toISOString(),
    chunker: overrides.chunker ?? { ...DEFAULT_CHUNKER_PARAMS },
    compressionLevel: overrides.compressionLevel ?? 3,
    packSize: overrides.packSize ?? DEFAULT_PACK_SIZE,
  };
}

export function decodeConfig(body: Buffer): RepoConfig {
  let config: RepoConfig | null;
  try {
    config = JSON.parse(body.toString('utf8')) as RepoConfig | null;
  } catch {
    config = null; // refused below, as CORRUPT_CONFIG like any other bad config
  }
  const valid =
    typeof config === 'object' &&
    config !== null &&
    config.version === 1 &&
    typeof config.id === 'string' &&
    Number.isInteger(config.chunker?.avg) &&
    Number.isInteger(config.compressionLevel) &&
    Number.isInteger(config.packSize) &&
    config.packSize >= 1024 &&
    config.packSize <= 1 << 30;
  if (!valid)
    throw new IntegrityError('CORRUPT_CONFIG', 'config: unknown version or invalid parameters', {
      object: 'config',
    });
  return config as RepoConfig;
}
