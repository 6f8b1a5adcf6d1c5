// Names of sites and workloads: DNS labels. A site agent's certificate names its site
// twice: DNS name `<site>` and common name `site:<site>` — a colon no vault agent's name
// can hold, so a vault agent's certificate (same CA) is never taken for a site agent's.

export const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const NAME_RULE = '1 to 63 lowercase letters, digits or hyphens, not starting or ending with a hyphen';

/** Shorter than a workload's: `site:` + name must fit the 64 characters of a common name. */
export const SITE_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$/;
export const SITE_NAME_RULE =
  '1 to 50 lowercase letters, digits or hyphens, not starting or ending with a hyphen';

/** The subject common name of the site agent of `site`. */
export function siteAgentCommonName(site: string): string {
  return `site:${site}`;
}

/** The organisation in every site agent certificate. */
export const SITE_AGENT_ORGANIZATION = 'Offsite site agent';
