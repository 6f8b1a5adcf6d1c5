import { BadInputError } from '../errors/index.ts';

// 'HOST:PORT' as people write it: 127.0.0.1:8443, vault.example:443, [::1]:8443, :8443.

export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListen(text: string): ListenAddress {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535) {
    throw new BadInputError('BAD_LISTEN', `"${text}" is not HOST:PORT`, {
      hint: 'e.g. 127.0.0.1:8443, [::1]:8443 or 0.0.0.0:8443 (port 0 picks a free port)',
    });
  }
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

/** The URL clients use: a wildcard address is reached as localhost. */
export function urlFor(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return `https://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
