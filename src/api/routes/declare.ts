// Declares the API's routes, one call each: who may call a route (its permission), its OpenAPI entry (the file's tag,
// summary, the key it takes) and what it answers (success bodies and the `{error, message}` statuses). The handler is
// typed from the same zod schemas that validate the request and serialize the answer.
import type {
  ContextConfigDefault,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
  RouteHandlerMethod,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { Permission } from '../../api-keys';
import { errorResponses } from '../errors';
import { KEY_AUTH } from '../schemas';

type Schema = z.ZodType | undefined;
type Answers = Record<number, z.ZodType>;

/** One route: who may call it and what it takes and answers, as the OpenAPI document shows it. */
export interface RouteSpec<P extends Schema, Q extends Schema, B extends Schema, A extends Answers | undefined> {
  /** The permission a key needs; `public`: no key. Left out, a key of any role gets in and the route decides. */
  permission?: Permission | 'public';
  summary: string;
  description?: string;
  params?: P;
  querystring?: Q;
  body?: B;
  /** The bodies it answers on success, by status code. */
  answers?: A;
  /** The error statuses it may answer, each with the `{error, message}` body. */
  errors?: number[];
  /** The key, as the document names it: KEY_AUTH unless the route is public; `false` leaves it out. */
  security?: typeof KEY_AUTH | false;
  /** Media types of an answer that is not JSON. */
  produces?: string[];
}

/** The Fastify schema a spec declares, with the zod types kept so that the handler's request and reply are typed. */
interface DeclaredSchema<P, Q, B, A> {
  tags: string[];
  summary: string;
  description?: string;
  security?: typeof KEY_AUTH;
  params: P;
  querystring: Q;
  body: B;
  response: A;
  produces?: string[];
}

type Handler<P, Q, B, A> = RouteHandlerMethod<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  RouteGenericInterface,
  ContextConfigDefault,
  DeclaredSchema<P, Q, B, A>,
  ZodTypeProvider
>;

type Declare = <
  P extends Schema = undefined,
  Q extends Schema = undefined,
  B extends Schema = undefined,
  A extends Answers | undefined = undefined,
>(
  url: string,
  spec: RouteSpec<P, Q, B, A>,
  handler: Handler<P, Q, B, A>,
) => void;

/** Route options for a spec, keys in the order the OpenAPI document has always listed them. */
function options<P extends Schema, Q extends Schema, B extends Schema, A extends Answers | undefined>(
  tag: string,
  spec: RouteSpec<P, Q, B, A>,
) {
  const { permission, summary, description, params, querystring, body, answers, errors, produces } = spec;
  const security = spec.security ?? (permission === 'public' ? false : KEY_AUTH);
  const response = answers || errors ? { ...answers, ...errorResponses(...(errors ?? [])) } : undefined;
  const schema = {
    tags: [tag],
    summary,
    ...(description !== undefined ? { description } : {}),
    ...(security ? { security } : {}),
    ...(params ? { params } : {}),
    ...(querystring ? { querystring } : {}),
    ...(body ? { body } : {}),
    ...(response ? { response } : {}),
    ...(produces ? { produces } : {}),
  } as DeclaredSchema<P, Q, B, A>;
  return { ...(permission ? { config: { permission } } : {}), schema };
}

/** Declares routes on `app` under one OpenAPI tag: `route.get(url, spec, handler)`, likewise `route.post`. */
export function declareRoutes(app: FastifyInstance, tag: string): { get: Declare; post: Declare } {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const get: Declare = (url, spec, handler) => void r.get(url, options(tag, spec), handler);
  const post: Declare = (url, spec, handler) => void r.post(url, options(tag, spec), handler);
  return { get, post };
}
