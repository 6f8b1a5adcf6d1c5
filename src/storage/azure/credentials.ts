import { AuthError, BadInputError } from '../../errors/index.ts';
import { type Env, secretFromEnv } from '../cloud/secrets.ts';
import { AZURE_CREDENTIAL_VARIABLES } from './location.ts';

/** A shared account key (base64), or a SAS token (the query string, without "?"). */
export type AzureCredential = { kind: 'key'; key: string } | { kind: 'sas'; token: string };

/**
 * The credential for `account` from the environment: AZURE_STORAGE_KEY or
 * AZURE_STORAGE_SAS, or their _FILE forms. AZURE_STORAGE_ACCOUNT is optional; when set it
 * must name the same account as the URL, since a key of another account could only fail
 * (and confusingly, as a signature mismatch).
 */
export function azureCredentialFromEnv(env: Env, account: string): AzureCredential {
  const named = env.AZURE_STORAGE_ACCOUNT;
  if (named !== undefined && named !== '' && named !== account) {
    throw new BadInputError(
      'CREDENTIALS_ACCOUNT_MISMATCH',
      `AZURE_STORAGE_ACCOUNT is "${named}" but the storage URL names the account "${account}"`,
      { hint: 'the key or SAS in the environment must belong to the account in the URL' },
    );
  }
  const key = secretFromEnv(env, 'AZURE_STORAGE_KEY');
  const sas = secretFromEnv(env, 'AZURE_STORAGE_SAS');
  if (key !== undefined && sas !== undefined) {
    throw new BadInputError(
      'AMBIGUOUS_CREDENTIALS',
      'both an account key and a SAS token are set for Azure',
      {
        hint: 'set either AZURE_STORAGE_KEY(_FILE) or AZURE_STORAGE_SAS(_FILE), not both',
      },
    );
  }
  if (key !== undefined) return { kind: 'key', key };
  if (sas !== undefined) return { kind: 'sas', token: sas.replace(/^\?/, '') };
  throw new AuthError('STORAGE_NO_CREDENTIALS', `no credentials for the Azure storage account "${account}"`, {
    hint: `set ${AZURE_CREDENTIAL_VARIABLES}`,
  });
}
