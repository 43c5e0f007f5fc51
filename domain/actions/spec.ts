// What every runbook action declares: its parameter schema and, when it changes a system, how to undo it.
// Sandbox-safe: imports only zod. The workflow calls `compensate` to plan rollbacks deterministically.
import type { z } from 'zod';

/** A step the engine runs to undo a completed one: an action name and its parameters. */
export interface CompensationStep {
  action: string;
  with: Record<string, unknown>;
}

export interface ActionSpec<P extends z.ZodType = z.ZodType> {
  /** One line for `runbook show` and the action reference. */
  summary: string;
  params: P;
  /**
   * The step that undoes this one, from the parameters it ran with and the output it returned (for example the
   * safe-mode level that was in force before). Undefined when there is nothing to undo.
   */
  compensate?: (params: z.output<P>, output: unknown) => CompensationStep | undefined;
  /** Changes production systems (blocks, suspends, kill switch): only a commander may approve or run it by hand. */
  destructive?: boolean;
  /**
   * Its output may be shown in API views (evidence hashes, archive paths). Others are left out: a connector's reply
   * can carry tokens, addresses or user data that a viewer key must not read.
   */
  safeOutput?: boolean;
}

/**
 * Declares a family of actions with their keys kept literal. Inferring each entry's parameter schema (a reverse
 * mapped type) types `compensate`'s `params` as that schema's output.
 */
export function defineActions<T extends Record<string, z.ZodType>>(actions: { [K in keyof T]: ActionSpec<T[K]> }): {
  [K in keyof T]: ActionSpec<T[K]>;
} {
  return actions;
}
