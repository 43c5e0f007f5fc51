// Route declarations: the permission goes to the route's config, the file's tag, the key scheme and the error
// statuses to its OpenAPI schema, and the handler answers through the declared zod schemas.
import Fastify, { type RouteOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ErrorBody } from '../../src/api/errors';
import { declareRoutes } from '../../src/api/routes/declare';
import { KEY_AUTH } from '../../src/api/schemas';

describe('declareRoutes', () => {
  const app = Fastify({ logger: false });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const declared = new Map<string, RouteOptions>();
  app.addHook('onRoute', (route) => {
    if (route.method !== 'HEAD') declared.set(`${String(route.method)} ${route.url}`, route);
  });
  afterAll(() => app.close());

  const route = declareRoutes(app, 'things');
  const Thing = z.object({ id: z.string(), size: z.number() });
  route.get(
    '/things/:id',
    {
      permission: 'read',
      summary: 'A thing',
      params: z.object({ id: z.string().regex(/^t\d$/) }),
      answers: { 200: Thing },
      errors: [400, 404],
    },
    async (request) => ({ id: request.params.id, size: 3, hidden: 'left out' }) as z.infer<typeof Thing>,
  );
  route.post('/things', { permission: 'public', summary: 'Make a thing', body: Thing }, async (request) => ({
    made: request.body.id,
  }));
  route.get(
    '/plain',
    { permission: 'read', summary: 'Text', security: false, produces: ['text/plain'] },
    async () => 'text',
  );
  route.get('/me', { summary: 'Any key' }, async () => ({}));

  it('puts the permission in the config and the OpenAPI entry in the schema', async () => {
    await app.ready();
    const get = declared.get('GET /things/:id')!;
    expect(get.config).toEqual({ permission: 'read' });
    expect(Object.keys(get.schema!)).toEqual(['tags', 'summary', 'security', 'params', 'response']);
    expect(get.schema!.tags).toEqual(['things']);
    expect(get.schema!.security).toBe(KEY_AUTH);
    expect(get.schema!.response).toEqual({ 200: Thing, 400: ErrorBody, 404: ErrorBody });

    const post = declared.get('POST /things')!;
    expect(post.config).toEqual({ permission: 'public' });
    expect(Object.keys(post.schema!)).toEqual(['tags', 'summary', 'body']);

    const plain = declared.get('GET /plain')!;
    expect(plain.config).toEqual({ permission: 'read' });
    expect(Object.keys(plain.schema!)).toEqual(['tags', 'summary', 'produces']);
    const me = declared.get('GET /me')!;
    expect(me.config).toBeUndefined();
    expect(me.schema!.security).toBe(KEY_AUTH);
  });

  it('validates the request and serializes the answer with the declared schemas', async () => {
    const ok = await app.inject({ method: 'GET', url: '/things/t1' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ id: 't1', size: 3 });
    expect((await app.inject({ method: 'GET', url: '/things/nope' })).statusCode).toBe(400);
    const made = await app.inject({ method: 'POST', url: '/things', payload: { id: 't2', size: 1 } });
    expect(made.json()).toEqual({ made: 't2' });
  });
});
