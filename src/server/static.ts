import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, resolve, sep } from 'node:path';
import { NotFoundError } from '../errors/index.ts';
import type { Route, RouteResult } from './types.ts';

// The console: the built single-page app in web/dist, served at `/`. Only files the build
// produced are served (a fixed list, read once), so no request path reaches the file
// system. Any other GET outside the API answers index.html, and the app routes itself.
// Hashed assets never change under their name, so browsers keep them a year; index.html
// is revalidated on every load so a new build is picked up at once.

export const CONSOLE_DIR = resolve(import.meta.dirname, '../../web/dist');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => `/${relative(dir, join(e.parentPath, e.name)).split(sep).join('/')}`);
}

export class ConsoleFiles {
  readonly #dir: string;
  #files: Map<string, RouteResult> | undefined;

  constructor(dir = CONSOLE_DIR) {
    this.#dir = dir;
  }

  async #load(): Promise<Map<string, RouteResult>> {
    if (this.#files) return this.#files;
    const files = new Map<string, RouteResult>();
    let names: string[];
    try {
      names = await listFiles(this.#dir);
    } catch {
      return files; // not built yet: asked again on the next request
    }
    for (const name of names) {
      const type = TYPES[extname(name)];
      if (!type) continue;
      const cache = name.startsWith('/assets/') ? IMMUTABLE : 'no-cache';
      const body = await readFile(join(this.#dir, name));
      files.set(name, { body, contentType: type, headers: { 'Cache-Control': cache } });
    }
    if (files.has('/index.html')) this.#files = files;
    return files;
  }

  /** The file for a GET of `pathname`: a built file, else index.html (the app's own routes). */
  async file(pathname: string): Promise<RouteResult> {
    const files = await this.#load();
    const found =
      files.get(pathname) ?? (pathname.startsWith('/assets/') ? undefined : files.get('/index.html'));
    if (found) return found;
    throw new NotFoundError(
      files.size === 0 ? 'CONSOLE_NOT_BUILT' : 'NOT_FOUND',
      files.size === 0 ? 'the web console is not built' : `no console file ${pathname.slice(0, 100)}`,
      { hint: files.size === 0 ? 'run `npm run build:web`' : 'open the console at /' },
    );
  }
}

/** The first path segments the API owns (v1, healthz, metrics): everything else is the console's. */
export function apiRoots(routes: readonly Route[]): Set<string> {
  return new Set(routes.map((r) => r.path.split('/')[1]!));
}

export function isConsoleRequest(method: string, pathname: string, roots: ReadonlySet<string>): boolean {
  return (method === 'GET' || method === 'HEAD') && !roots.has(pathname.split('/')[1]!);
}
