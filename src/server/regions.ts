import { BadInputError } from '../errors/index.ts';
import { type BlobStore, parseRegionUrl, RetryStore } from '../storage/index.ts';
import type { Region } from './types.ts';

// Each configured region is one BlobStore; vaults live in it under their id.

export function regionStores(regions: readonly Region[]): (name: string) => BlobStore {
  const stores = new Map(
    regions.map((r) => [r.name, new RetryStore(parseRegionUrl(`${r.name}=${r.url}`).open())] as const),
  );
  return (name) => {
    const store = stores.get(name);
    if (!store) {
      throw new BadInputError('UNKNOWN_REGION', `the server has no region "${name}"`, {
        hint: `the server was started with ${regions.map((r) => r.name).join(', ')}`,
      });
    }
    return store;
  };
}
