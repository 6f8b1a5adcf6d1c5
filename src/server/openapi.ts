import { compilePath } from './router.ts';
import type { Route, Schema } from './types.ts';

// The OpenAPI 3.1 document, generated from the route table: a route cannot exist without
// being documented, and a documented route always exists.

const ERROR_SCHEMA: Schema = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'stable code, e.g. VAULT_NOT_FOUND' },
    message: { type: 'string' },
    hint: { type: 'string' },
  },
};

/** '/v1/vaults/:name' → '/v1/vaults/{name}'. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z][A-Za-z0-9]*)/g, '{$1}');
}

function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
}

function responses(route: Route): Record<string, unknown> {
  const ok = route.response ?? { status: 200, schema: {} };
  const out: Record<string, unknown> = {
    [String(ok.status)]: {
      description: 'success',
      content: { [ok.contentType ?? 'application/json']: { schema: ok.schema } },
    },
    '400': errorResponse('bad input'),
    '404': errorResponse('not found'),
  };
  if (route.auth === 'token') {
    out['401'] = errorResponse('no valid API token');
    out['403'] = errorResponse('the token role is too low');
  }
  if (route.bodyLimit > 0) out['413'] = errorResponse(`body larger than ${route.bodyLimit} bytes`);
  if (route.method === 'POST' || route.method === 'PATCH') out['409'] = errorResponse('conflict');
  out['500'] = errorResponse('server failure');
  return out;
}

function operation(route: Route): Record<string, unknown> {
  const params = compilePath(route.path).flatMap((s) => ('param' in s ? [s.param] : []));
  return {
    summary: route.summary,
    operationId: `${route.method.toLowerCase()}${openApiPath(route.path).replace(/[^A-Za-z0-9]+(.)?/g, (_, c?: string) => (c ? c.toUpperCase() : ''))}`,
    tags: [route.tag],
    ...(route.auth === 'token' ? { security: [{ bearer: [] }] } : { security: [] }),
    ...(route.minRole ? { 'x-min-role': route.minRole } : {}),
    'x-body-limit': route.bodyLimit,
    parameters: params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
    ...(route.requestBody
      ? { requestBody: { required: true, content: { 'application/json': { schema: route.requestBody } } } }
      : {}),
    responses: responses(route),
  };
}

export function openApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const key = openApiPath(route.path);
    paths[key] ??= {};
    paths[key][route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Offsite vault server', version },
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API token' } },
    },
  };
}
