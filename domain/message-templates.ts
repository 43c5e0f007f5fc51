// Message templates for human-facing channels (Slack, e-mail): a subject and a text per audience family (internal,
// external/status page, executive) and severity, following the Fiovana procedures' communication plan and the FailSafe-Qore procedures' content
// lists. Placeholders are `${path}` resolved by plain path lookup in a fixed context: never eval, never a shell, and a
// substituted value is never itself expanded. Pure: no I/O, so the config loader validates overrides with it.
import { z } from 'zod';
import { SEVERITIES, SEVERITY_NAMES, type Severity } from './severity';
import { lookupPath, TemplateError, templatePaths } from './template';

export const AUDIENCE_FAMILIES = ['internal', 'external', 'executive'] as const;
export type AudienceFamily = (typeof AUDIENCE_FAMILIES)[number];

/** Template slots: one per severity, plus `default` for a notification whose severity is not known. */
export const TEMPLATE_SLOTS = [...SEVERITIES, 'default'] as const;
export type TemplateSlot = (typeof TEMPLATE_SLOTS)[number];

/** The Fiovana procedures' severity table and internal communication plan, by severity. */
export const COMMUNICATION_PLAN: Record<Severity, { responseTime: string; escalation: string; updates: string }> = {
  P0: {
    responseTime: 'immediate',
    escalation: 'Executive team + Security team',
    updates: 'Immediate notification to all team members',
  },
  P1: {
    responseTime: 'within 1 hour',
    escalation: 'Security team + Engineering',
    updates: 'Notification within 1 hour to relevant teams',
  },
  P2: { responseTime: 'within 4 hours', escalation: 'Engineering team', updates: 'Daily status updates' },
  P3: { responseTime: 'within 24 hours', escalation: 'On-call engineer', updates: 'Weekly summary reports' },
};

/** Every path a template may name, besides `vars.<name>` and `details.<field>`. */
export const TEMPLATE_FIELDS = [
  'incident.id',
  'incident.title',
  'incident.severity',
  'incident.severityName',
  'incident.phase',
  'incident.category',
  'incident.eventType',
  'incident.owner',
  'headline',
  'message',
  'subject',
  'audience',
  'sentAt',
  'policy.responseTime',
  'policy.escalation',
  'policy.updates',
] as const;

/** Variables templates can use as `${vars.name}`; config `templates.vars` overrides and extends them. */
export const DEFAULT_TEMPLATE_VARS: Record<string, string> = {
  support: 'our support team',
};

export interface MessageTemplate {
  subject: string;
  text: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Defaults. Internal: who is told and how often follows the Fiovana procedures ("Critical: immediate notification to all team
// members" ... "Low: weekly summary reports"); content follows the FailSafe-Qore procedures (ID and severity, summary, impact,
// actions, expected resolution; the caller's message carries the last three). External: high level, no sensitive
// details (no title, category or event type), impact, what we do, contact for support. Executive: the FailSafe-Qore procedures'
// level 3 (leadership; legal counsel if a data breach; PR if public).

const INTERNAL_FOOTER = [
  'Incident: ${incident.id}',
  'Severity: ${incident.severity} (${incident.severityName}), respond ${policy.responseTime}',
  'Phase: ${incident.phase}',
  'Owner: ${incident.owner}',
  'Escalation: ${policy.escalation}',
].join('\n');

const EXTERNAL_FOOTER = 'Reference: ${incident.id}. Questions: contact ${vars.support}.';

export const DEFAULT_TEMPLATES: Record<AudienceFamily, Record<TemplateSlot, MessageTemplate>> = {
  internal: {
    P0: {
      subject: '[P0 Critical] ${incident.id}: ${headline}',
      text: `CRITICAL incident: every team member is notified now.\n\n\${message}\n\n${INTERNAL_FOOTER}\nUpdates: continuous until contained.`,
    },
    P1: {
      subject: '[P1 High] ${incident.id}: ${headline}',
      text: `High-severity incident: relevant teams are notified within 1 hour.\n\n\${message}\n\n${INTERNAL_FOOTER}\nUpdates: at least hourly until contained.`,
    },
    P2: {
      subject: '[P2 Medium] ${incident.id}: ${headline}',
      text: `Medium-severity incident.\n\n\${message}\n\n${INTERNAL_FOOTER}\nUpdates: daily status update.`,
    },
    P3: {
      subject: '[P3 Low] ${incident.id}: ${headline}',
      text: `Low-severity incident, for the weekly summary.\n\n\${message}\n\n${INTERNAL_FOOTER}\nUpdates: weekly summary report.`,
    },
    default: {
      subject: '[${incident.id}] ${headline}',
      text: '${message}\n\nIncident: ${incident.id}\nPhase: ${incident.phase}\nOwner: ${incident.owner}',
    },
  },
  external: {
    P0: {
      subject: 'Major service disruption (${incident.id})',
      text: `We are experiencing a major service disruption. Restoring service is our top priority.\n\n\${message}\n\nWe will post updates as soon as we know more. ${EXTERNAL_FOOTER}`,
    },
    P1: {
      subject: 'Partial service disruption (${incident.id})',
      text: `Some features are unavailable or significantly degraded. Our teams are working on a fix.\n\n\${message}\n\nWe will post the next update within the hour. ${EXTERNAL_FOOTER}`,
    },
    P2: {
      subject: 'Degraded performance (${incident.id})',
      text: `Some users may notice degraded performance. We are investigating.\n\n\${message}\n\n${EXTERNAL_FOOTER}`,
    },
    P3: {
      subject: 'Minor issue (${incident.id})',
      text: `We are looking into a minor issue with limited impact.\n\n\${message}\n\n${EXTERNAL_FOOTER}`,
    },
    default: {
      subject: 'Service update (${incident.id})',
      text: `\${message}\n\n${EXTERNAL_FOOTER}`,
    },
  },
  executive: {
    P0: {
      subject: '[Executive briefing] Critical incident ${incident.id}: ${headline}',
      text:
        'A critical incident needs executive attention now.\n\n${message}\n\n' +
        'Severity: ${incident.severity} (${incident.severityName})\nPhase: ${incident.phase}\nOwner: ${incident.owner}\n' +
        'Engaged: ${policy.escalation}\n\n' +
        'If a data breach is confirmed, involve legal counsel; involve PR before any public statement.',
    },
    P1: {
      subject: '[Executive briefing] High-severity incident ${incident.id}: ${headline}',
      text:
        'For your attention: a high-severity incident is being handled.\n\n${message}\n\n' +
        'Severity: ${incident.severity} (${incident.severityName})\nPhase: ${incident.phase}\nOwner: ${incident.owner}\n' +
        'Engaged: ${policy.escalation}; next update within 1 hour.',
    },
    P2: {
      subject: '[Executive summary] Medium-severity incident ${incident.id}: ${headline}',
      text:
        'For your information; no action needed.\n\n${message}\n\n' +
        'Severity: ${incident.severity} (${incident.severityName}), handled by the ${policy.escalation}; daily status updates.',
    },
    P3: {
      subject: '[Executive summary] Low-severity incident ${incident.id}: ${headline}',
      text:
        'For the weekly summary; no action needed.\n\n${message}\n\n' +
        'Severity: ${incident.severity} (${incident.severityName}), handled by the ${policy.escalation}.',
    },
    default: {
      subject: '[Executive briefing] ${incident.id}: ${headline}',
      text: '${message}\n\nIncident: ${incident.id}\nPhase: ${incident.phase}\nOwner: ${incident.owner}',
    },
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Overrides from incident-engine.yaml:
//
//   templates:
//     vars: { support: support@example.com }
//     external:
//       P0: { subject: 'Outage: ${incident.id}' }
//       default: { text: '${message}' }
//
// Keys are audiences (internal, external, executive, or any audience name such as L3); a field left out falls back
// to the audience's family, then to the built-in default.

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Problems with the placeholders of one template string, given the variables that exist. */
export function templateIssues(text: string, vars: readonly string[]): string[] {
  let paths: string[];
  try {
    paths = templatePaths(text);
  } catch (error) {
    return [error instanceof TemplateError ? error.message : String(error)];
  }
  const issues: string[] = [];
  for (const p of paths) {
    if ((TEMPLATE_FIELDS as readonly string[]).includes(p) || p.startsWith('details.')) continue;
    if (p.startsWith('vars.')) {
      const name = p.slice('vars.'.length);
      if (!vars.includes(name)) {
        issues.push(
          `placeholder "\${${p}}" names an undefined variable; defined: ${vars.join(', ') || 'none'} (templates.vars)`,
        );
      }
      continue;
    }
    issues.push(
      `placeholder "\${${p}}" cannot resolve; expected one of ${TEMPLATE_FIELDS.join(', ')}, vars.<name> or details.<field>`,
    );
  }
  return issues;
}

const TemplateOverride = z
  .object({ subject: z.string().min(1).optional(), text: z.string().min(1).optional() })
  .strict();
const SlotOverrides = z.strictObject(
  {
    P0: TemplateOverride.optional(),
    P1: TemplateOverride.optional(),
    P2: TemplateOverride.optional(),
    P3: TemplateOverride.optional(),
    default: TemplateOverride.optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `expected severities P0, P1, P2, P3 or default, received ${issue.keys.join(', ')}`
        : undefined,
  },
);

export const TemplateConfig = z
  .object({
    vars: z
      .record(z.string().regex(VAR_NAME, 'expected a variable name of letters, digits and "_"'), z.string())
      .optional(),
  })
  .catchall(SlotOverrides)
  .superRefine((config, ctx) => {
    const vars = Object.keys({ ...DEFAULT_TEMPLATE_VARS, ...config.vars });
    for (const [audience, slots] of Object.entries(config)) {
      if (audience === 'vars') continue;
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(audience)) {
        ctx.addIssue({
          code: 'custom',
          path: [audience],
          message: 'expected an audience name, like internal, external, executive or L3',
        });
        continue;
      }
      for (const [slot, template] of Object.entries(slots as Record<string, z.infer<typeof TemplateOverride>>)) {
        for (const field of ['subject', 'text'] as const) {
          const text = template[field];
          if (text === undefined) continue;
          for (const message of templateIssues(text, vars)) {
            ctx.addIssue({ code: 'custom', path: [audience, slot, field], message });
          }
        }
      }
    }
  });
export type TemplateConfig = z.infer<typeof TemplateConfig>;

/** Which built-in template family serves an audience: L3 (the executive level) is executive; unknown ones internal. */
export function audienceFamily(audience: string): AudienceFamily {
  if (audience === 'external') return 'external';
  if (audience === 'executive' || audience === 'L3') return 'executive';
  return 'internal';
}

/** The template for an audience and severity: overrides for the audience, then its family, then the defaults. */
export function resolveTemplate(
  audience: string,
  severity: Severity | undefined,
  config?: TemplateConfig,
): MessageTemplate {
  const family = audienceFamily(audience);
  const slot: TemplateSlot = severity ?? 'default';
  const overrides = (name: string) =>
    name === 'vars' ? undefined : (config?.[name] as z.infer<typeof SlotOverrides> | undefined);
  const chain = [
    overrides(audience)?.[slot],
    overrides(audience)?.default,
    ...(family === audience ? [] : [overrides(family)?.[slot], overrides(family)?.default]),
    DEFAULT_TEMPLATES[family][slot],
  ];
  const pick = (field: 'subject' | 'text'): string => {
    for (const template of chain) {
      const value = template?.[field];
      if (value !== undefined) return value;
    }
    return DEFAULT_TEMPLATES[family][slot][field];
  };
  return { subject: pick('subject'), text: pick('text') };
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

/** What a notification knows; everything but the id, audience, message and time may be absent. */
export interface TemplateInput {
  incidentId: string;
  audience: string;
  /** The caller's message (a runbook step's `message`, an escalation's reason). */
  message: string;
  /** The caller's own subject line, available as `${subject}`. */
  subject: string;
  severity?: Severity;
  title?: string;
  phase?: string;
  category?: string;
  eventType?: string;
  owner?: string;
  details?: Record<string, unknown>;
  sentAt: Date;
}

export interface RenderedMessage {
  subject: string;
  text: string;
}

export interface RenderOptions {
  /** Applied to every substituted value (never to the template's own text), e.g. Slack's `&`, `<`, `>` escaping. */
  escape?: (value: string) => string;
}

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const HEADLINE_CHARS = 120;
const SUBJECT_CHARS = 250;

/** The values templates can name. Every listed field is present, so a validated template always renders. */
export function templateContext(input: TemplateInput, vars: Record<string, string> = {}): Record<string, unknown> {
  const plan = input.severity ? COMMUNICATION_PLAN[input.severity] : undefined;
  const firstLine = input.message.split(/\r?\n/, 1)[0]?.trim() ?? '';
  return {
    incident: {
      id: input.incidentId,
      title: input.title ?? '',
      severity: input.severity ?? 'unclassified',
      severityName: input.severity ? SEVERITY_NAMES[input.severity] : 'Unclassified',
      phase: input.phase ?? 'unknown',
      category: input.category ?? '',
      eventType: input.eventType ?? '',
      owner: input.owner || 'unassigned',
    },
    headline: truncate(input.title || firstLine || input.subject, HEADLINE_CHARS),
    message: input.message,
    subject: input.subject,
    audience: input.audience,
    sentAt: input.sentAt.toISOString(),
    policy: plan ?? { responseTime: '', escalation: '', updates: '' },
    vars: { ...DEFAULT_TEMPLATE_VARS, ...vars },
    details: input.details ?? {},
  };
}

/** Substitutes placeholders by path lookup; a missing `details.*` value renders empty, an unknown path throws. */
export function renderText(template: string, context: Record<string, unknown>, options: RenderOptions = {}): string {
  return template.replace(PLACEHOLDER, (_whole, raw: string) => {
    const p = raw.trim();
    const found = lookupPath(context, p);
    if (found === undefined && !p.startsWith('details.')) throw new TemplateError(`template path "${p}" has no value`);
    const text =
      found === undefined || found === null ? '' : typeof found === 'object' ? JSON.stringify(found) : String(found);
    return options.escape ? options.escape(text) : text;
  });
}

/** Picks and renders the template for a notification. The subject is one line of at most 250 characters. */
export function renderMessage(
  input: TemplateInput,
  config?: TemplateConfig,
  options: RenderOptions = {},
): RenderedMessage {
  const template = resolveTemplate(input.audience, input.severity, config);
  const context = templateContext(input, config?.vars);
  const subject = truncate(renderText(template.subject, context, options).replace(/\s+/g, ' ').trim(), SUBJECT_CHARS);
  return { subject, text: renderText(template.text, context, options) };
}

function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}
