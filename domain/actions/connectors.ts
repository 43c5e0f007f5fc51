// Containment through external control planes (firewall, identity provider, API gateway, service mesh...), each
// reached through an HTTP connector named in incident-engine.yaml (`connectors`, `connectorFor`). Sandbox-safe:
// imports only zod. Pairs (block/unblock, suspend/reinstate, disable/enable, open/close) compensate each other.
import { z } from 'zod';
import { type ActionSpec, defineActions } from './spec';

const TARGET_HINT = 'expected an IPv4/IPv6 address or CIDR, like 203.0.113.7, 2001:db8::1 or 198.51.100.0/24';
const ADDRESS_OR_CIDR = [z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()];

/** True for an IPv4/IPv6 address or CIDR block. */
export function isAddressOrCidr(value: string): boolean {
  return ADDRESS_OR_CIDR.some((schema) => schema.safeParse(value).success);
}

const Target = z
  .string({ error: TARGET_HINT })
  .trim()
  .refine(isAddressOrCidr, { error: (issue) => `${TARGET_HINT}; received ${JSON.stringify(issue.input)}` })
  // A /0 covers every address: blocking it would cut the application off from the whole internet.
  .refine((value) => !/\/0+$/.test(value), {
    error: (issue) => `expected a CIDR narrower than /0 (${JSON.stringify(issue.input)} covers every address)`,
  });

/** One address or a list of them; always a non-empty list once parsed. */
const Targets = z.union(
  [Target.transform((value) => [value]), z.array(Target).min(1, `${TARGET_HINT}; received an empty list`)],
  {
    // For a single string, say what is wrong with it rather than zod's generic "Invalid input" for unions.
    error: (issue) =>
      typeof issue.input === 'string'
        ? (Target.safeParse(issue.input).error?.issues[0]?.message ?? TARGET_HINT)
        : TARGET_HINT,
  },
);

const name = (what: string, example: string) =>
  z
    .string({ error: `expected ${what}, like "${example}"` })
    .trim()
    .min(1, `expected ${what}, like "${example}"`);

/** Common to every connector action: an explicit connector (overrides `connectorFor`) and a reason for the record. */
const common = {
  connector: name('a connector name from incident-engine.yaml `connectors`', 'firewall').optional(),
  reason: z.string().min(1).optional(),
};

/** A destructive action undone by `undo` with the same parameters (connector and reason included). */
function reversible<P extends z.ZodType<Record<string, unknown>>>(
  summary: string,
  params: P,
  undo: string,
): ActionSpec<P> {
  return { summary, params, compensate: (p) => ({ action: undo, with: { ...p } }), destructive: true };
}

const BlockParams = z.object({ targets: Targets, ...common }).strict();
const AccountParams = z.object({ account: name('an account id', 'user-4711'), ...common }).strict();
const EndpointParams = z.object({ endpoint: name('an endpoint name', 'POST /api/upload'), ...common }).strict();
const BreakerParams = z.object({ breaker: name('a circuit breaker name', 'file-uploads'), ...common }).strict();

export const CONNECTOR_ACTIONS = defineActions({
  'network.blockSource': reversible(
    'Block source addresses or CIDRs at the network edge through a connector; undo unblocks them.',
    BlockParams,
    'network.unblockSource',
  ),
  'network.unblockSource': reversible(
    'Remove blocks on source addresses or CIDRs through a connector; undo blocks them again.',
    BlockParams,
    'network.blockSource',
  ),
  'credentials.rotateApiKey': {
    summary: 'Rotate an API key through a connector; the old key stops working, so there is no undo.',
    params: z.object({ keyId: name('an API key id', 'ci-deploy-key'), ...common }).strict(),
    destructive: true,
  },
  'sessions.revoke': {
    summary: "Revoke a user's sessions (user) or every session (all: true) through a connector; there is no undo.",
    params: z
      .object({
        user: name('a user id', 'alice').optional(),
        all: z.literal(true, { error: 'expected all: true (or leave it out and name a user)' }).optional(),
        ...common,
      })
      .strict()
      .refine((p) => (p.user === undefined) !== (p.all === undefined), {
        error: "expected exactly one of `user` (one user's sessions) or `all: true` (every session)",
        path: ['user'],
      }),
    destructive: true,
  },
  'accounts.suspend': reversible(
    'Suspend an account through a connector; undo reinstates it.',
    AccountParams,
    'accounts.reinstate',
  ),
  'accounts.reinstate': reversible(
    'Reinstate a suspended account through a connector; undo suspends it again.',
    AccountParams,
    'accounts.suspend',
  ),
  'endpoint.disable': reversible(
    'Disable an application endpoint (API gateway, feature flag) through a connector; undo enables it.',
    EndpointParams,
    'endpoint.enable',
  ),
  'endpoint.enable': reversible(
    'Enable an application endpoint through a connector; undo disables it again.',
    EndpointParams,
    'endpoint.disable',
  ),
  'circuitBreaker.open': reversible(
    'Open a circuit breaker (stop traffic to an operation) through a connector; undo closes it.',
    BreakerParams,
    'circuitBreaker.close',
  ),
  'circuitBreaker.close': reversible(
    'Close a circuit breaker (let traffic through again) through a connector; undo opens it.',
    BreakerParams,
    'circuitBreaker.open',
  ),
});

export type ConnectorActionName = keyof typeof CONNECTOR_ACTIONS;
export const CONNECTOR_ACTION_NAMES = Object.keys(CONNECTOR_ACTIONS) as ConnectorActionName[];
