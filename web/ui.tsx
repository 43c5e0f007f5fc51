// Shared pieces of the console's pages: polling, a ticking clock, time formatting, severity badges, labelled fields
// and the action form every update uses (disabled, saying why, when the key's role may not; the API's refusal shown
// in its own words). Everything renders text through Preact, which never parses it as HTML.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure } from './api';

/** Loads now and every `ms` while the tab is visible; `reload` loads at once. */
export function usePoll<T>(
  load: () => Promise<T>,
  ms: number,
  deps: unknown[],
): { data?: T; error?: ApiFailure; reload: () => void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiFailure>();
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      if (!document.hidden) {
        try {
          const value = await load();
          if (!alive) return;
          setData(value);
          setError(undefined);
        } catch (e) {
          if (!alive) return;
          setError(e instanceof ApiFailure ? e : new ApiFailure(0, 'error', String(e)));
        }
      }
      if (alive) timer = setTimeout(run, ms);
    };
    void run();
    return () => {
      alive = false;
      if (timer) clearTimeout(timer);
    };
  }, [...deps, tick]);
  return { data, error, reload };
}

/** The current time, ticking every second (countdowns). */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

export function duration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3_600);
  const m = Math.floor((s % 3_600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

export function ago(at: number, now: number): string {
  return at > now ? `in ${duration(at - now)}` : `${duration(now - at)} ago`;
}

export function clock(at: number | string): string {
  const date = new Date(at);
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

export function Time({ at, now }: { at: number | string; now: number }) {
  const ms = typeof at === 'number' ? at : Date.parse(at);
  return (
    <time dateTime={new Date(ms).toISOString()} title={clock(ms)}>
      {ago(ms, now)}
    </time>
  );
}

export const SEVERITY_NAMES: Record<string, string> = { P0: 'Critical', P1: 'High', P2: 'Medium', P3: 'Low' };

export function Severity({ value }: { value?: string }) {
  if (!value) return <span class="sev">-</span>;
  return (
    <span class={`sev sev-${value.toLowerCase()}`} title={SEVERITY_NAMES[value] ?? value}>
      {value} {SEVERITY_NAMES[value] ?? ''}
    </span>
  );
}

export function Status({ value }: { value?: string }) {
  return <span class={`status status-${value ?? 'unknown'}`}>{(value ?? '-').replace('_', ' ')}</span>;
}

export function Failure({ error }: { error?: ApiFailure }) {
  if (!error) return null;
  return (
    <p class="failure" role="alert">
      <strong>{error.code}</strong> {error.message}
    </p>
  );
}

let fieldIds = 0;

export type FieldKind = 'text' | 'textarea' | 'select' | 'checkbox' | 'list';

export interface FieldSpec {
  name: string;
  label: string;
  kind?: FieldKind;
  options?: readonly string[];
  required?: boolean;
  placeholder?: string;
  /** Initial value. */
  value?: string;
}

export function Field({ spec }: { spec: FieldSpec }) {
  const id = useRef(`f${++fieldIds}`).current;
  const kind = spec.kind ?? 'text';
  if (kind === 'checkbox') {
    return (
      <div class="field check">
        <input id={id} name={spec.name} type="checkbox" />
        <label for={id}>{spec.label}</label>
      </div>
    );
  }
  return (
    <div class="field">
      <label for={id}>
        {spec.label}
        {spec.required ? '' : ' (optional)'}
      </label>
      {kind === 'textarea' ? (
        <textarea id={id} name={spec.name} rows={2} required={spec.required} placeholder={spec.placeholder} />
      ) : kind === 'select' ? (
        <select id={id} name={spec.name} required={spec.required}>
          <option value="" disabled={spec.required} selected={spec.value === undefined}>
            {spec.required ? 'choose...' : '-'}
          </option>
          {(spec.options ?? []).map((o) => (
            <option value={o} selected={o === spec.value}>
              {o}
            </option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          name={spec.name}
          type="text"
          required={spec.required}
          placeholder={spec.placeholder ?? (kind === 'list' ? 'comma-separated' : undefined)}
          value={spec.value}
        />
      )}
    </div>
  );
}

/** A form's values as a request body: empty text left out, lists split on commas, checkboxes as booleans. */
export function formBody(form: HTMLFormElement, fields: FieldSpec[]): Record<string, unknown> {
  const data = new FormData(form);
  const body: Record<string, unknown> = {};
  for (const field of fields) {
    const kind = field.kind ?? 'text';
    if (kind === 'checkbox') {
      body[field.name] = data.get(field.name) === 'on';
      continue;
    }
    const raw = String(data.get(field.name) ?? '').trim();
    if (raw === '') continue;
    body[field.name] =
      kind === 'list'
        ? raw
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : raw;
  }
  return body;
}

export interface ActionFormProps {
  title: string;
  submit: string;
  fields: FieldSpec[];
  /** Why the key may not, when it may not: the form is disabled and says so. */
  refused?: string;
  onSubmit: (body: Record<string, unknown>) => Promise<unknown>;
  onDone?: () => void;
  danger?: boolean;
  children?: ComponentChildren;
  class?: string;
}

export function ActionForm(props: ActionFormProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiFailure>();
  const [done, setDone] = useState<string>();
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      await props.onSubmit(formBody(form, props.fields));
      form.reset();
      setDone(`${props.submit}: done`);
      props.onDone?.();
    } catch (e) {
      setError(e instanceof ApiFailure ? e : new ApiFailure(0, 'error', String(e)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class={`action ${props.class ?? ''}`} onSubmit={submit} aria-label={props.title}>
      <fieldset disabled={props.refused !== undefined || busy}>
        <legend>{props.title}</legend>
        {props.children}
        {props.fields.map((f) => (
          <Field spec={f} key={f.name} />
        ))}
        <button type="submit" class={props.danger ? 'danger' : ''} title={props.refused}>
          {busy ? 'Sending...' : props.submit}
        </button>
      </fieldset>
      {props.refused ? <p class="why">{props.refused}</p> : null}
      <Failure error={error} />
      {done ? (
        <p class="ok" role="status">
          {done}
        </p>
      ) : null}
    </form>
  );
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" aria-labelledby={id ? `${id}-h` : undefined}>
      <h2 id={id ? `${id}-h` : undefined}>{title}</h2>
      {children}
    </section>
  );
}
