import { KeyPrefix } from '../cloud/keys.ts';
import { badLocation, type CloudUrlRules, parseCloudUrl, parseEndpoint } from '../cloud/url.ts';

export const AZURE_CREDENTIAL_VARIABLES =
  'AZURE_STORAGE_KEY or AZURE_STORAGE_SAS, or AZURE_STORAGE_KEY_FILE / AZURE_STORAGE_SAS_FILE naming a file that holds one';

export const AZURE_URL_RULES: CloudUrlRules = {
  scheme: 'azure',
  usage: 'azure://ACCOUNT/CONTAINER[/PREFIX][?endpoint=https://HOST[:PORT][/PATH]]',
  params: ['endpoint'],
  credentials: AZURE_CREDENTIAL_VARIABLES,
};

/** Where an Azure store lives; nothing here is secret. */
export interface AzureLocation {
  account: string;
  container: string;
  prefix: KeyPrefix;
  /** The Blob service URL: https://ACCOUNT.blob.core.windows.net unless `endpoint=` says otherwise. */
  serviceUrl: string;
  /** For messages and `location`: the URL as a user would write it, normalised. */
  display: string;
}

// Azure's naming rules: accounts 3–24 lowercase letters and digits; containers 3–63
// lowercase letters, digits and single hyphens, starting with a letter or digit.
const ACCOUNT = /^[a-z0-9]{3,24}$/;
const CONTAINER = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * Parses azure://ACCOUNT/CONTAINER[/PREFIX][?endpoint=URL]. `endpoint` is the Blob
 * service URL, for Azurite (http://127.0.0.1:10000/devstoreaccount1), sovereign clouds
 * (https://ACCOUNT.blob.core.chinacloudapi.cn) or private endpoints.
 */
export function parseAzureLocation(location: string): AzureLocation {
  const url = parseCloudUrl(location, AZURE_URL_RULES);
  const [container = '', ...rest] = url.path.split('/');
  if (!ACCOUNT.test(url.host)) {
    throw badLocation(
      `"${url.host}" in ${url.display} is not a storage account name (3–24 lowercase letters and digits)`,
      AZURE_URL_RULES,
    );
  }
  if (!CONTAINER.test(container)) {
    throw badLocation(
      `${url.display} names no valid container (3–63 lowercase letters, digits and single hyphens)`,
      AZURE_URL_RULES,
    );
  }
  const prefix = new KeyPrefix(rest.join('/'));
  const endpoint = url.params.get('endpoint');
  const serviceUrl =
    endpoint === undefined
      ? `https://${url.host}.blob.core.windows.net`
      : parseEndpoint(endpoint, url.display, AZURE_URL_RULES);
  const base = `azure://${url.host}/${container}${prefix.suffix}`;
  return {
    account: url.host,
    container,
    prefix,
    serviceUrl,
    display: endpoint === undefined ? base : `${base}?endpoint=${serviceUrl}`,
  };
}
