// The ids of the updates a run has applied, carried into the next run when the incident continues as new. The server
// can hand an update that one run has already applied and completed to the next run as if it were new
// (temporalio/temporal#6375; seen here on the dev server: an operator's note recorded twice). An update keeps its id
// when it is handed on, so the next run answers such a repeat with the incident's view instead of applying it again.
// Pure: no Temporal calls.

/**
 * How many of the newest ids a run carries. A repeat arrives at the start of the next run, so only the last updates
 * of a run matter; this bounds the carried value (about 20 KB) whatever the update budget allows.
 */
export const CARRIED_UPDATE_IDS = 500;

export class AppliedUpdates {
  private readonly ids: Set<string>;

  constructor(carried: readonly string[] = []) {
    this.ids = new Set(carried);
  }

  /** True for an update an earlier run already applied (carried), or this run did. */
  has(id: string): boolean {
    return id !== '' && this.ids.has(id);
  }

  add(id: string): void {
    if (id === '') return;
    this.ids.delete(id);
    this.ids.add(id);
    // A Set iterates in insertion order: the first is the oldest.
    if (this.ids.size > CARRIED_UPDATE_IDS) this.ids.delete(this.ids.values().next().value as string);
  }

  /** The newest ids, oldest first, for the next run. */
  carry(): string[] {
    return [...this.ids];
  }
}
