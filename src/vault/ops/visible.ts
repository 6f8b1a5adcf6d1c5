import { NotFoundError } from '../../errors/index.ts';
import type { Catalog, VaultRow } from '../catalog/index.ts';

/** The vault by name as the caller may see it: another vault is "not found" to a scoped token. */
export async function visibleVault(catalog: Catalog, name: string, scope: string | null): Promise<VaultRow> {
  const vault = await catalog.getVaultByName(name);
  if (scope !== null && scope !== vault.id) {
    throw new NotFoundError('VAULT_NOT_FOUND', `no vault named "${vault.name}"`);
  }
  return vault;
}
