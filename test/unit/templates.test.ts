// Message templates: defaults per audience family and severity (the Fiovana procedures' communication plan), override precedence,
// config validation, and rendering by path lookup only (no eval, no second expansion of substituted values).
import { describe, expect, it } from 'vitest';
import { EngineConfigFile, buildConfig } from '../../src/config';
import {
  AUDIENCE_FAMILIES,
  DEFAULT_TEMPLATES,
  DEFAULT_TEMPLATE_VARS,
  TEMPLATE_SLOTS,
  TemplateConfig,
  audienceFamily,
  renderMessage,
  resolveTemplate,
  templateIssues,
  type TemplateInput,
} from '../../domain/message-templates';

const SENT_AT = new Date('2026-03-01T12:00:00.000Z');

function input(overrides: Partial<TemplateInput> = {}): TemplateInput {
  return {
    incidentId: 'INC-2026-001',
    audience: 'internal',
    message: 'Login API returns 500 for all users; rolling back release 42.',
    subject: '[INC-2026-001] contain',
    severity: 'P0',
    title: 'Login outage',
    phase: 'contain',
    owner: 'alice',
    sentAt: SENT_AT,
    ...overrides,
  };
}

function parseTemplates(value: unknown): TemplateConfig {
  return TemplateConfig.parse(value);
}

describe('default templates', () => {
  it('cover every audience family and severity, and every placeholder in them resolves', () => {
    const vars = Object.keys(DEFAULT_TEMPLATE_VARS);
    for (const family of AUDIENCE_FAMILIES) {
      for (const slot of TEMPLATE_SLOTS) {
        const template = DEFAULT_TEMPLATES[family][slot];
        expect(templateIssues(template.subject, vars), `${family}.${slot}.subject`).toEqual([]);
        expect(templateIssues(template.text, vars), `${family}.${slot}.text`).toEqual([]);
        // Renders without throwing, with and without the optional fields.
        expect(() =>
          renderMessage(input({ audience: family, severity: slot === 'default' ? undefined : slot })),
        ).not.toThrow();
        expect(() =>
          renderMessage({
            incidentId: 'INC-1',
            audience: family,
            message: 'm',
            subject: 's',
            sentAt: SENT_AT,
            ...(slot === 'default' ? {} : { severity: slot }),
          }),
        ).not.toThrow();
      }
    }
  });

  it('internal: follow the Fiovana procedures (who is told, how fast, who escalates) and carry the FailSafe-Qore procedures fields', () => {
    const p0 = renderMessage(input());
    expect(p0.subject).toBe('[P0 Critical] INC-2026-001: Login outage');
    expect(p0.text).toContain('every team member is notified now');
    expect(p0.text).toContain('Login API returns 500 for all users; rolling back release 42.');
    expect(p0.text).toContain('Severity: P0 (Critical), respond immediate');
    expect(p0.text).toContain('Escalation: Executive team + Security team');
    expect(p0.text).toContain('Phase: contain');
    expect(p0.text).toContain('Owner: alice');

    const p1 = renderMessage(input({ severity: 'P1' }));
    expect(p1.subject).toBe('[P1 High] INC-2026-001: Login outage');
    expect(p1.text).toContain('notified within 1 hour');
    expect(p1.text).toContain('Escalation: Security team + Engineering');

    const p2 = renderMessage(input({ severity: 'P2' }));
    expect(p2.subject).toBe('[P2 Medium] INC-2026-001: Login outage');
    expect(p2.text).toContain('daily status update');
    expect(p2.text).toContain('respond within 4 hours');

    const p3 = renderMessage(input({ severity: 'P3' }));
    expect(p3.subject).toBe('[P3 Low] INC-2026-001: Login outage');
    expect(p3.text).toContain('weekly summary');
    expect(p3.text).toContain('Escalation: On-call engineer');
  });

  it('external (status page): state impact and next steps, never the title, category or event type', () => {
    const sensitive = input({
      audience: 'external',
      title: 'SQL injection in /admin/export leaks customer emails',
      category: 'security',
      eventType: 'data_breach',
      message: 'Sign-in is unavailable for some customers.',
    });
    const p0 = renderMessage(sensitive);
    expect(p0.subject).toBe('Major service disruption (INC-2026-001)');
    expect(p0.text).toContain('Sign-in is unavailable for some customers.');
    expect(p0.text).toContain('Questions: contact our support team.');
    for (const text of [p0.subject, p0.text]) {
      expect(text).not.toContain('SQL injection');
      expect(text).not.toContain('data_breach');
      expect(text).not.toContain('security');
    }
    expect(renderMessage({ ...sensitive, severity: 'P1' }).subject).toBe('Partial service disruption (INC-2026-001)');
    expect(renderMessage({ ...sensitive, severity: 'P2' }).subject).toBe('Degraded performance (INC-2026-001)');
    expect(renderMessage({ ...sensitive, severity: 'P3' }).subject).toBe('Minor issue (INC-2026-001)');
  });

  it('executive: critical asks for attention and names legal counsel and PR (the FailSafe-Qore procedures, level 3)', () => {
    const p0 = renderMessage(input({ audience: 'executive' }));
    expect(p0.subject).toBe('[Executive briefing] Critical incident INC-2026-001: Login outage');
    expect(p0.text).toContain('needs executive attention now');
    expect(p0.text).toContain('legal counsel');
    expect(p0.text).toContain('PR before any public statement');
    expect(renderMessage(input({ audience: 'executive', severity: 'P3' })).text).toContain('no action needed');
  });

  it('maps escalation audiences to families: L3 is executive, L1/L2/unknown are internal', () => {
    expect(audienceFamily('L3')).toBe('executive');
    expect(audienceFamily('executive')).toBe('executive');
    expect(audienceFamily('external')).toBe('external');
    expect(audienceFamily('L1')).toBe('internal');
    expect(audienceFamily('L2')).toBe('internal');
    expect(audienceFamily('pager-team')).toBe('internal');
    expect(renderMessage(input({ audience: 'L3' })).subject).toMatch(/^\[Executive briefing\]/);
  });

  it('uses the default slot when the severity is unknown, with the message first line as headline', () => {
    const rendered = renderMessage(
      input({ severity: undefined, title: undefined, message: 'Disk almost full on db-1\nmore detail' }),
    );
    expect(rendered.subject).toBe('[INC-2026-001] Disk almost full on db-1');
    expect(rendered.text).toContain('Owner: alice');
  });

  it('keeps the subject on one line and at most 250 characters', () => {
    const rendered = renderMessage(input({ title: `Line one\nline two ${'x'.repeat(400)}` }));
    expect(rendered.subject).not.toMatch(/[\r\n]/);
    expect(Array.from(rendered.subject).length).toBeLessThanOrEqual(250);
  });
});

describe('overrides', () => {
  it('take precedence per field: audience+severity, audience default, family+severity, family default, built-in', () => {
    const config = parseTemplates({
      vars: { support: 'support@example.com' },
      L3: { P0: { subject: 'L3 P0 ${incident.id}' }, default: { text: 'L3 default: ${message}' } },
      executive: { P0: { subject: 'exec P0', text: 'exec P0 text' }, default: { subject: 'exec default' } },
      external: { default: { text: '${message} — ${vars.support}' } },
    });
    expect(resolveTemplate('L3', 'P0', config)).toEqual({
      subject: 'L3 P0 ${incident.id}',
      text: 'L3 default: ${message}',
    });
    expect(resolveTemplate('L3', 'P1', config)).toEqual({ subject: 'exec default', text: 'L3 default: ${message}' });
    expect(resolveTemplate('executive', 'P0', config)).toEqual({ subject: 'exec P0', text: 'exec P0 text' });
    expect(resolveTemplate('executive', 'P2', config)).toEqual({
      subject: 'exec default',
      text: DEFAULT_TEMPLATES.executive.P2.text,
    });
    // A family default beats the built-in severity template; fields left out fall back to the built-in.
    expect(resolveTemplate('external', 'P0', config)).toEqual({
      subject: DEFAULT_TEMPLATES.external.P0.subject,
      text: '${message} — ${vars.support}',
    });
    expect(renderMessage(input({ audience: 'external' }), config).text).toBe(
      'Login API returns 500 for all users; rolling back release 42. — support@example.com',
    );
    expect(resolveTemplate('internal', 'P1', config)).toEqual(DEFAULT_TEMPLATES.internal.P1);
  });

  it('are validated when the config loads: unknown paths, undefined vars, bad slots, malformed placeholders', () => {
    const issues = (value: unknown) => {
      const parsed = TemplateConfig.safeParse(value);
      return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ internal: { P0: { text: 'hi ${incident.secret}' } } })).toEqual([
      expect.stringMatching(
        /^internal\.P0\.text: placeholder "\$\{incident\.secret\}" cannot resolve; expected one of incident\.id/,
      ),
    ]);
    expect(issues({ external: { default: { subject: '${vars.hotline}' } } })).toEqual([
      expect.stringMatching(
        /^external\.default\.subject: placeholder "\$\{vars\.hotline\}" names an undefined variable; defined: support/,
      ),
    ]);
    expect(issues({ vars: { hotline: '555' }, external: { default: { subject: '${vars.hotline}' } } })).toEqual([]);
    expect(issues({ internal: { P5: { text: 'x' } } })).toEqual([
      'internal: expected severities P0, P1, P2, P3 or default, received P5',
    ]);
    expect(issues({ internal: { P0: { text: '${process.exit(1)}' } } })).toEqual([
      expect.stringContaining('expected a dotted path like ${incident.id}'),
    ]);
    expect(issues({ internal: { P0: { text: '${constructor.constructor}' } } })).toEqual([
      expect.stringContaining('cannot resolve'),
    ]);
    expect(issues({ internal: { P0: { colour: 'red' } } })).toEqual([expect.stringContaining('internal.P0')]);

    // Through the engine config file schema, as incident-engine.yaml is read.
    const file = EngineConfigFile.safeParse({ templates: { executive: { P0: { subject: '${incident.nope}' } } } });
    expect(file.success).toBe(false);
    expect(file.error?.issues[0]?.path).toEqual(['templates', 'executive', 'P0', 'subject']);
    const config = buildConfig(
      EngineConfigFile.parse({ templates: { vars: { support: 'help@example.com' } } }),
      '/tmp',
    );
    expect(renderMessage(input({ audience: 'external' }), config.templates).text).toContain(
      'contact help@example.com.',
    );
  });
});

describe('rendering', () => {
  it('substitutes by path lookup once: values that look like placeholders or code stay literal', () => {
    const rendered = renderMessage(
      input({ message: 'ping ${incident.owner} ${process.exit(1)} `rm -rf /` $(id)', title: '${vars.support}' }),
    );
    expect(rendered.text).toContain('ping ${incident.owner} ${process.exit(1)} `rm -rf /` $(id)');
    expect(rendered.subject).toBe('[P0 Critical] INC-2026-001: ${vars.support}');
  });

  it('applies an escape function to substituted values only, never to the template text', () => {
    const config = parseTemplates({ internal: { P0: { subject: '<${incident.id}>', text: '*bold* ${message}' } } });
    const rendered = renderMessage(input({ message: '<!channel> & <https://evil.example|click>' }), config, {
      escape: (v) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
    });
    expect(rendered.subject).toBe('<INC-2026-001>');
    expect(rendered.text).toBe('*bold* &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;');
  });

  it('renders details.* from the notification, and an absent detail as empty', () => {
    const config = parseTemplates({
      L2: { default: { text: 'level ${details.toLevel} via ${details.trigger}${details.absent}.' } },
    });
    const rendered = renderMessage(
      input({ audience: 'L2', severity: undefined, details: { toLevel: 2, trigger: 'unacknowledged' } }),
      config,
    );
    expect(rendered.text).toBe('level 2 via unacknowledged.');
  });
});
