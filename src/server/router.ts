import { BadInputError, NotFoundError, OffsiteError } from '../errors/index.ts';
import type { HttpMethod, Route } from './types.ts';

// Matches a request's method and path against the declarative route table. A path that
// no route has is 404; a path some route has under another method is 405 with Allow.
// A last segment `:name*` takes the rest of the path, slashes included (object names of
// the agent data API); it matches even an empty rest, so its handler, not the router,
// decides what a bad value is.

type Segment = { literal: string } | { param: string; rest?: true };

interface CompiledRoute {
  route: Route;
  segments: Segment[];
}

export type Match = { route: Route; params: Record<string, string> };

const PARAM = /^:([A-Za-z][A-Za-z0-9]*)(\*?)$/;

export function compilePath(path: string): Segment[] {
  if (!path.startsWith('/')) throw new Error(`route path ${path} must start with /`);
  const parts = splitPath(path);
  return parts.map((part, i) => {
    const param = PARAM.exec(part);
    if (!param) return { literal: part };
    if (param[2] === '') return { param: param[1]! };
    if (i !== parts.length - 1) throw new Error(`route path ${path}: only the last segment can be :name*`);
    return { param: param[1]!, rest: true };
  });
}

function splitPath(pathname: string): string[] {
  return pathname.split('/').slice(1);
}

/** Params are percent-decoded; a malformed escape is bad input, not a crash. */
function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new BadInputError('BAD_PATH', 'the request path has a malformed %-escape');
  }
}

function matchSegments(segments: Segment[], parts: string[]): Record<string, string> | undefined {
  const rest = segments.at(-1);
  const takesRest = rest !== undefined && 'param' in rest && rest.rest === true;
  if (takesRest ? parts.length < segments.length : segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const part = parts[i]!;
    if ('literal' in segment) {
      if (segment.literal !== part) return undefined;
    } else if (segment.rest) {
      params[segment.param] = parts.slice(i).map(decode).join('/');
    } else {
      if (part === '') return undefined;
      params[segment.param] = decode(part);
    }
  }
  return params;
}

export class Router {
  readonly #routes: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    const seen = new Set<string>();
    this.#routes = routes.map((route) => {
      const key = `${route.method} ${route.path.replace(/:[A-Za-z0-9]+/g, ':')}`;
      if (seen.has(key)) throw new Error(`duplicate route ${route.method} ${route.path}`);
      seen.add(key);
      return { route, segments: compilePath(route.path) };
    });
  }

  get routes(): Route[] {
    return this.#routes.map((r) => r.route);
  }

  /** The route for method and path; throws NOT_FOUND (404) or METHOD_NOT_ALLOWED (405). */
  match(method: string, pathname: string): Match {
    const parts = splitPath(pathname);
    const allowed: HttpMethod[] = [];
    for (const { route, segments } of this.#routes) {
      const params = matchSegments(segments, parts);
      if (params === undefined) continue;
      if (route.method === method) return { route, params };
      allowed.push(route.method);
    }
    if (allowed.length === 0) {
      throw new NotFoundError('NOT_FOUND', `no such endpoint: ${pathname}`, {
        hint: 'GET /v1/openapi.json lists every endpoint',
      });
    }
    throw new MethodNotAllowedError(method, allowed);
  }
}

/** 405; `allow` becomes the Allow header. */
export class MethodNotAllowedError extends OffsiteError {
  readonly allow: readonly HttpMethod[];
  constructor(method: string, allow: readonly HttpMethod[]) {
    super('bad-input', 'METHOD_NOT_ALLOWED', `${method} is not allowed here`, {
      hint: `use ${allow.join(' or ')}`,
    });
    this.allow = allow;
  }
}
