import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openApiDocument, openApiPath } from './openapi.ts';
import { routeTable } from './routes.ts';

type Operation = { security: unknown[]; parameters: { name: string }[]; responses: Record<string, unknown> };

test('paths are written the OpenAPI way', () => {
  assert.equal(openApiPath('/v1/vaults/:name/servers/:id'), '/v1/vaults/{name}/servers/{id}');
});

test('every route of the table is in the document, with its auth, params and error answers', () => {
  const routes = routeTable();
  const doc = openApiDocument(routes, '1') as {
    openapi: string;
    paths: Record<string, Record<string, Operation>>;
  };
  assert.equal(doc.openapi, '3.1.0');
  for (const r of routes) {
    const op = doc.paths[openApiPath(r.path)]?.[r.method.toLowerCase()];
    assert.ok(op, `${r.method} ${r.path}`);
    assert.equal(op.security.length, r.auth === 'token' ? 1 : 0);
    assert.equal('401' in op.responses, r.auth === 'token');
    assert.equal('413' in op.responses, r.bodyLimit > 0);
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
    assert.deepEqual(
      op.parameters.map((p) => p.name),
      params,
    );
  }
});

test('the served document lists the openapi route itself', async () => {
  const openapi = routeTable().find((r) => r.path === '/v1/openapi.json')!;
  const { body } = await openapi.handler({} as never);
  const doc = body as { paths: Record<string, unknown> };
  assert.ok(doc.paths['/v1/openapi.json']);
  assert.ok(doc.paths['/v1/vaults/{name}']);
});
