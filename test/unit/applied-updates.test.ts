// The update ids an incident carries into its next run: bounded to the newest, oldest dropped first.
import { describe, expect, it } from 'vitest';
import { AppliedUpdates, CARRIED_UPDATE_IDS } from '../../workflows/incident/applied-updates';

describe('AppliedUpdates', () => {
  it('knows the carried ids and the ones added since', () => {
    const applied = new AppliedUpdates(['a', 'b']);
    applied.add('c');
    expect(['a', 'b', 'c', 'd'].map((id) => applied.has(id))).toEqual([true, true, true, false]);
    expect(applied.carry()).toEqual(['a', 'b', 'c']);
  });

  it(`carries only the newest ${CARRIED_UPDATE_IDS}, dropping the oldest first`, () => {
    const applied = new AppliedUpdates(['carried']);
    for (let i = 0; i < CARRIED_UPDATE_IDS; i++) applied.add(`u${i}`);
    expect(applied.has('carried')).toBe(false);
    expect(applied.carry()).toHaveLength(CARRIED_UPDATE_IDS);
    expect(applied.carry()[0]).toBe('u0');
    // An id seen again counts as the newest.
    applied.add('u0');
    applied.add('u-new');
    expect(applied.carry().at(-2)).toBe('u0');
    expect(applied.has('u1')).toBe(false);
  });

  it('never matches an update without an id', () => {
    const applied = new AppliedUpdates();
    applied.add('');
    expect(applied.has('')).toBe(false);
    expect(applied.carry()).toEqual([]);
  });
});
