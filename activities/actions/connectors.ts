// Connector actions (network.blockSource, accounts.suspend, circuitBreaker.open, ...): one HTTP request to the
// connector configured for the action (`connector` parameter, else `connectorFor`), its URL and JSON body filled from
// the action's parameters and the incident ids by plain path lookup. Must never eval a template, shell out, or put
// header values (secrets from `fromEnv`) into messages or outputs.
import type { ConnectorConfig } from '../../domain/config';
import { encodeUrlValue, urlPartAt, urlValueProblem } from '../../domain/url-template';
import { CONNECTOR_ACTION_NAMES, type ConnectorActionName } from '../../domain/actions/connectors';
import type { ActionInput } from '../../domain/actions';
import { lookupPath } from '../../domain/template';
import type { ActionContext, ParamsOf, Performer, Performers } from '../context';
import { ActionNotConfiguredError, InvalidActionInputError } from '../errors';
import { compactBody, sendHttp, withAttempt } from '../http/client';
import { resolveHeaders } from '../http/headers';

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const WHOLE_PLACEHOLDER = /^\$\{([^}]*)\}$/;

/** What placeholders resolve against: `${params.targets}`, `${incident.id}`, `${step.id}`, `${action}`, `${idempotencyKey}`. */
export interface ConnectorTemplateContext {
  action: string;
  params: Record<string, unknown>;
  incident: { id: string; phase: string };
  step: { id: string };
  idempotencyKey: string;
}

/** Marks a key whose whole-value placeholder has no value: the key is left out of the body. */
const ABSENT = Symbol('absent');

function missing(where: string, path: string, context: ConnectorTemplateContext): InvalidActionInputError {
  const given = Object.keys(context.params).join(', ') || 'none';
  return new InvalidActionInputError(
    `${where}: placeholder "\${${path}}" has no value for ${context.action} (step ${context.step.id}; parameters given: ${given})`,
  );
}

function renderValue(template: unknown, context: ConnectorTemplateContext, where: string): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(template);
    if (whole) {
      // Exactly one placeholder: the value keeps its JSON type (a list of targets stays a list); absent stays absent.
      const value = lookupPath(context, (whole[1] ?? '').trim());
      return value === undefined ? ABSENT : value;
    }
    return template.replace(PLACEHOLDER, (_all, raw: string) => {
      const path = raw.trim();
      const value = lookupPath(context, path);
      if (value === undefined || value === null) throw missing(where, path, context);
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    });
  }
  if (Array.isArray(template)) {
    return template.map((item, index) => {
      const value = renderValue(item, context, `${where}[${index}]`);
      if (value === ABSENT) throw missing(where, String(WHOLE_PLACEHOLDER.exec(item as string)?.[1]).trim(), context);
      return value;
    });
  }
  if (template !== null && typeof template === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(template)) {
      const value = renderValue(item, context, `${where}.${key}`);
      if (value !== ABSENT) out[key] = value;
    }
    return out;
  }
  return template;
}

/**
 * Fills a connector body template. A string that is exactly `${path}` becomes the value (any JSON type) and an object
 * key whose value is absent is dropped (so `{"user": "${params.user}"}` works for `sessions.revoke {all: true}`);
 * placeholders inside longer text become text, and an absent value there is an error naming the placeholder.
 */
export function renderConnectorBody(template: unknown, context: ConnectorTemplateContext, where: string): unknown {
  const value = renderValue(template, context, where);
  if (value === ABSENT) throw missing(where, String(WHOLE_PLACEHOLDER.exec(template as string)?.[1]).trim(), context);
  return value;
}

/**
 * Fills a connector URL. Each value is encoded for the part of the URL it lands in (a list becomes comma-separated
 * encoded items), and a value that would be a `.` or `..` path segment is refused (domain/url-template.ts).
 */
export function renderConnectorUrl(template: string, context: ConnectorTemplateContext, where: string): string {
  return template.replace(PLACEHOLDER, (_all, raw: string, offset: number) => {
    const path = raw.trim();
    const value = lookupPath(context, path);
    if (value === undefined || value === null) throw missing(where, path, context);
    if (!Array.isArray(value) && typeof value === 'object') {
      throw new InvalidActionInputError(
        `${where}: placeholder "\${${path}}" is an object; expected text, a number or a list in a URL`,
      );
    }
    const part = urlPartAt(template, offset);
    const items = (Array.isArray(value) ? value : [value]).map((item) => {
      const text = String(item);
      const problem = urlValueProblem(text, part);
      if (problem) {
        throw new InvalidActionInputError(
          `${where}: placeholder "\${${path}}" for ${context.action} (step ${context.step.id}) ${problem}`,
        );
      }
      return encodeUrlValue(text);
    });
    return items.join(',');
  });
}

/** The connector an action uses: its `connector` parameter, else `connectorFor[action]`. */
export function connectorFor(
  ctx: ActionContext,
  action: ConnectorActionName,
  explicit: string | undefined,
  stepId: string,
): { name: string; connector: ConnectorConfig } {
  const configured = Object.keys(ctx.config.connectors ?? {});
  const name = explicit ?? ctx.config.connectorFor?.[action];
  if (!name) {
    throw new ActionNotConfiguredError(
      `${action} (step ${stepId}): expected a connector, found none: set connectorFor."${action}" in incident-engine.yaml or give the step a connector parameter (configured connectors: ${configured.join(', ') || 'none'})`,
    );
  }
  const connector = ctx.config.connectors?.[name];
  if (!connector) {
    throw new ActionNotConfiguredError(
      `${action} (step ${stepId}): connector "${name}" is not configured in incident-engine.yaml (configured connectors: ${configured.join(', ') || 'none'})`,
    );
  }
  return { name, connector };
}

async function runConnector(
  ctx: ActionContext,
  action: ConnectorActionName,
  params: ParamsOf<ConnectorActionName>,
  input: ActionInput,
) {
  const { name, connector } = connectorFor(ctx, action, params.connector, input.stepId);
  const context: ConnectorTemplateContext = {
    action,
    params: { ...params },
    incident: { id: input.incidentId, phase: input.phase },
    step: { id: input.stepId },
    idempotencyKey: input.idempotencyKey,
  };
  const where = `connectors.${name}`;
  const url = renderConnectorUrl(connector.url, context, `${where}.url`);
  const body = connector.body === undefined ? undefined : renderConnectorBody(connector.body, context, `${where}.body`);
  const reply = await sendHttp({
    label: `${action} (step ${input.stepId}) via connector ${name}`,
    method: connector.method,
    url,
    headers: resolveHeaders(connector.headers, `${where}.headers`),
    ...(body === undefined ? {} : { body }),
    idempotencyKey: input.idempotencyKey,
    ...(connector.timeoutMs === undefined ? {} : { timeoutMs: connector.timeoutMs }),
    credentialsAt: `${where}.headers in incident-engine.yaml`,
  });
  return withAttempt({ connector: name, status: reply.status, response: compactBody(reply.body) });
}

export function connectorPerformers(ctx: ActionContext): Performers<ConnectorActionName> {
  return Object.fromEntries(
    CONNECTOR_ACTION_NAMES.map((action) => {
      const perform: Performer<ConnectorActionName> = (params, input) => runConnector(ctx, action, params, input);
      return [action, perform];
    }),
  ) as Performers<ConnectorActionName>;
}
