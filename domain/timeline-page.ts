// One page of an incident's timeline, for the `timelinePage` query: at most `limit` events and about
// TIMELINE_PAGE_BYTES of JSON, so no timeline read can pass Temporal's gRPC message limit (4 MB) however long the
// timeline grows. Readers page with `next` until it reaches `total`. Sandbox-safe: imports only zod and domain modules.
import { z } from 'zod';
import type { TimelineEvent } from './incident';
import { jsonBytes } from './utf8';

/** Most events in one page. */
export const MAX_TIMELINE_PAGE_EVENTS = 500;
/** About the most JSON one page carries, in UTF-8 bytes (a single larger event still makes a page of its own). */
export const TIMELINE_PAGE_BYTES = 1024 * 1024;

export const TimelinePageRequest = z
  .object({
    from: z.number().int().nonnegative().default(0),
    limit: z.number().int().min(1).max(MAX_TIMELINE_PAGE_EVENTS).default(MAX_TIMELINE_PAGE_EVENTS),
  })
  .strict();
export type TimelinePageRequest = z.input<typeof TimelinePageRequest>;

export interface TimelinePage {
  /** Events from index `from`, oldest first. */
  events: TimelineEvent[];
  /** Where the next page starts; equal to `total` on the last page. */
  next: number;
  /** Events on the whole timeline. */
  total: number;
}

/** The page of `timeline` a request asks for (a bad request gets the first page). */
export function timelinePage(timeline: readonly TimelineEvent[], request: unknown): TimelinePage {
  const parsed = TimelinePageRequest.safeParse(request ?? {});
  const { from, limit } = parsed.success ? parsed.data : { from: 0, limit: MAX_TIMELINE_PAGE_EVENTS };
  const events: TimelineEvent[] = [];
  let bytes = 0;
  for (let i = from; i < timeline.length && events.length < limit; i++) {
    const size = jsonBytes(timeline[i]);
    if (events.length > 0 && bytes + size > TIMELINE_PAGE_BYTES) break;
    events.push(timeline[i]!);
    bytes += size;
  }
  return { events, next: Math.min(from, timeline.length) + events.length, total: timeline.length };
}
