// What every action family gets from the engine: configuration, a clock, and notification delivery. Families build
// their performers from it; activities/index.ts wraps them with parameter parsing, drill recording and error typing.
import type { EngineConfig } from '../domain/config';
import type { ActionInput, ActionName, ACTION_PARAMS } from '../domain/actions';
import type { z } from 'zod';

export interface ActionContext {
  config: EngineConfig;
  /** Clock for file timestamps and message dates; tests pin it. */
  now: () => Date;
}

/** The parsed parameters of an action. */
export type ParamsOf<A extends ActionName> = z.output<(typeof ACTION_PARAMS)[A]>;

/** Carries out one action for real, with parameters already parsed. Drills never reach it. */
export type Performer<A extends ActionName> = (params: ParamsOf<A>, input: ActionInput) => Promise<unknown>;

/** A family's performers, keyed by action name. */
export type Performers<A extends ActionName> = { [K in A]: Performer<K> };
