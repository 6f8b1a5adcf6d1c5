import { BadInputError } from '../../errors/index.ts';

// Storage URLs (azure://, s3://) are written on command lines, in service files and in
// the catalog, and they appear in logs and messages: they must never carry a secret.
// A URL with user:password, or with a query parameter that is or looks like a
// credential, is refused with the environment variables to use instead, and no message
// here ever repeats a query value or the user-info part.

export interface CloudUrlRules {
  /** Without the colon: "azure", "s3". */
  scheme: string;
  /** The URL's shape, for hints: "azure://ACCOUNT/CONTAINER[/PREFIX][?endpoint=URL]". */
  usage: string;
  /** Query parameters the scheme takes (none of them secret). */
  params: readonly string[];
  /** Where the credentials come from, for hints: "AZURE_STORAGE_KEY or ...". */
  credentials: string;
}

export interface CloudUrl {
  /** The part after "//": an account, a bucket. */
  host: string;
  /** The path after the host, without its leading "/" ("" when none). */
  path: string;
  params: ReadonlyMap<string, string>;
  /** scheme://host/path: safe to show (no user info, no query). */
  display: string;
}

/** Query names that are credentials: SAS fields, keys, AWS presigned-URL fields. */
const SECRET_PARAM =
  /^(sig|signature|se|sv|sp|sr|st|spr|ss|srt|skoid|sktid|skt|ske|sks|skv|.*key.*|.*secret.*|.*token.*|.*pass.*|pwd|.*credential.*|x-amz-.*|sharedaccesssignature)$/i;
/** An unknown parameter name is shown only when it cannot be a pasted secret. */
const SHOWABLE_NAME = /^[a-z][a-z-]{0,24}$/i;

/** A "." or ".." path segment, plain or percent-encoded: URL parsing would resolve it away. */
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?=[/?#]|$)/i;

export function parseCloudUrl(location: string, rules: CloudUrlRules): CloudUrl {
  if (DOT_SEGMENT.test(location.split('?')[0]!)) {
    throw badLocation(`${rules.scheme}://… has a "." or ".." segment in its path`, rules);
  }
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw badLocation(`${rules.scheme}://… is not a valid URL`, rules);
  }
  if (url.protocol !== `${rules.scheme}:`) {
    throw badLocation(`${url.protocol}//… is not a ${rules.scheme}:// URL`, rules);
  }
  const display = `${rules.scheme}://${url.host}${url.pathname}`;
  if (url.username !== '' || url.password !== '') {
    throw secretInUrl(`${display} carries a user name or password`, rules);
  }
  if (url.hash !== '') throw badLocation(`${display} has a "#" fragment`, rules);
  if (url.host === '') throw badLocation(`${display} names no ${hostWord(rules)}`, rules);
  return {
    host: url.host,
    path: url.pathname.replace(/^\//, ''),
    params: queryOf(url, display, rules),
    display,
  };
}

function queryOf(url: URL, display: string, rules: CloudUrlRules): Map<string, string> {
  const params = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    if (!rules.params.includes(name)) {
      if (SECRET_PARAM.test(name) || !SHOWABLE_NAME.test(name)) {
        throw secretInUrl(`${display} has a query parameter that may be a credential`, rules);
      }
      throw badLocation(`${display} has an unknown query parameter "${name}"`, rules);
    }
    if (params.has(name)) throw badLocation(`${display} gives "${name}" twice`, rules);
    params.set(name, value);
  }
  return params;
}

/**
 * Checks an `endpoint=` parameter: an http(s) URL with no user info, query or fragment
 * (it is shown in messages). Returns it without a trailing slash.
 */
export function parseEndpoint(value: string, display: string, rules: CloudUrlRules): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badLocation(`the endpoint of ${display} is not a URL`, rules);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '') {
    throw secretInUrl(`the endpoint of ${display} carries a user name, password or query`, rules);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw badLocation(`the endpoint of ${display} must be an http:// or https:// URL`, rules);
  }
  if (url.hash !== '') throw badLocation(`the endpoint of ${display} has a "#" fragment`, rules);
  return url.href.replace(/\/+$/, '');
}

export function badLocation(message: string, rules: CloudUrlRules): BadInputError {
  return new BadInputError('BAD_STORE_LOCATION', message, {
    hint: `write ${rules.usage}${rules.params.length > 0 ? ` (parameters: ${rules.params.join(', ')})` : ''}`,
  });
}

function secretInUrl(message: string, rules: CloudUrlRules): BadInputError {
  return new BadInputError('SECRET_IN_URL', `${message}; storage URLs never carry credentials`, {
    hint: `remove it from the URL and give the credentials in the environment: ${rules.credentials}`,
  });
}

function hostWord(rules: CloudUrlRules): string {
  return rules.usage.slice(`${rules.scheme}://`.length).split('/')[0]!.toLowerCase();
}
