// The incident's search attributes as it last upserted them, so a publish sends only what changed (patch
// search-attributes-changed-only): each upsert is a history event, and most carry one changed key (the phase).
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';

export class PublishedAttributes {
  private readonly last = new Map<string, unknown>();

  /** `changedOnly`: asked at each publish; false replays histories that upserted every attribute every time. */
  constructor(private readonly changedOnly: () => boolean) {}

  publish(pairs: SearchAttributeUpdatePair[]): void {
    const sent = this.changedOnly() ? pairs.filter((pair) => this.last.get(pair.key.name) !== pair.value) : pairs;
    for (const pair of sent) this.last.set(pair.key.name, pair.value);
    if (sent.length > 0) upsertSearchAttributes(sent);
  }
}
