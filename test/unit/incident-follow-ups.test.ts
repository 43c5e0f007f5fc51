// Notes, lessons and follow-ups on the Incident alone (no server): what each update keeps in the state the status
// view carries, what it refuses (naming the follow-up), its bounds, and the follow-up reminders' due dates.
import { describe, expect, it } from 'vitest';
import { MAX_LIST_ITEMS, MAX_RECORDS_BYTES, MAX_TEXT_CHARS } from '../../domain/limits';
import { jsonBytes } from '../../domain/utf8';
import { ID, harness } from '../helpers/incident-harness';

const DAY = 24 * 3600_000;

describe('addNote and recordLessons', () => {
  it('keep notes, findings and the four lists of lessons in the status view, with who and when', () => {
    const h = harness();
    const at = h.incident.state.openedAt;
    h.send('addNote', { by: 'alice', text: 'scan from 203.0.113.7' });
    h.tick(60_000);
    h.send('addNote', { by: 'bob', text: 'the key was in a public repo', finding: true });
    h.send('recordLessons', {
      by: 'carol',
      lessonsLearned: ['scan keys before push'],
      responseEffectiveness: ['contained within 5 minutes'],
      improvementOpportunities: ['automate key rotation', 'alert on public repos'],
      procedureUpdates: ['add key rotation to the containment phase'],
    });
    const view = h.incident.view();
    expect(view.notes).toEqual([
      { at, by: 'alice', text: 'scan from 203.0.113.7' },
      { at: at + 60_000, by: 'bob', text: 'the key was in a public repo', finding: true },
    ]);
    expect(view.lessons?.map((l) => [l.by, l.kind, l.text])).toEqual([
      ['carol', 'lesson_learned', 'scan keys before push'],
      ['carol', 'response_effectiveness', 'contained within 5 minutes'],
      ['carol', 'improvement_opportunity', 'automate key rotation'],
      ['carol', 'improvement_opportunity', 'alert on public repos'],
      ['carol', 'procedure_update', 'add key rotation to the containment phase'],
    ]);
    expect(h.incident.timeline.at(-1)).toMatchObject({
      type: 'lessons_recorded',
      by: 'carol',
      counts: { lesson_learned: 1, response_effectiveness: 1, improvement_opportunity: 2, procedure_update: 1 },
    });
  });

  it('are taken while resolved (the post-incident phase), refused once closed', () => {
    const h = harness();
    h.incident.state.status = 'resolved';
    h.send('addNote', { by: 'alice', text: 'post-incident review held' });
    h.incident.state.status = 'closed';
    expect(h.refusal('addNote', { by: 'alice', text: 'late' })).toBe(`incident ${ID} is closed`);
    expect(h.incident.state.notes).toHaveLength(1);
  });

  it('are bounded: text length, empty lessons, and the count kept per incident', () => {
    const h = harness();
    expect(h.refusal('addNote', { by: 'alice', text: 'x'.repeat(MAX_TEXT_CHARS + 1) })).toMatch(
      /^invalid input: text: expected the note of at most 16384 characters/,
    );
    expect(h.refusal('recordLessons', { by: 'alice' })).toMatch(/expected at least one of lessonsLearned/);
    expect(h.refusal('recordLessons', { by: 'alice', procedureUpdates: [' '] })).toMatch(
      /procedureUpdates\.0: expected procedure update/,
    );
    for (let i = 0; i < MAX_LIST_ITEMS; i++) h.send('addNote', { by: 'alice', text: `note ${i}` });
    expect(h.refusal('addNote', { by: 'alice', text: 'one more' })).toBe(
      `incident ${ID} has ${MAX_LIST_ITEMS} notes; at most ${MAX_LIST_ITEMS} are kept`,
    );
  });
});

describe('the size of notes, lessons and follow-ups together', () => {
  it('is bounded in bytes, so the view every update answers with stays one payload in any script', () => {
    const h = harness();
    // 16,000 three-byte characters: 48 KB a note, which the character bounds alone let through 200 times (9.6 MB).
    const wide = (i: number) => `${i} ${'漢'.repeat(16_000)}`;
    for (let i = 0; i < 10; i++) h.send('addNote', { by: 'alice', text: wide(i) });
    expect(h.refusal('addNote', { by: 'alice', text: wide(10) })).toBe(
      `incident ${ID} keeps 470 KiB of notes, lessons and follow-ups; this update's notes (47 KiB) would take them ` +
        "past the 512 KiB they may hold together (every answer carries them, within Temporal's 2 MB a payload)",
    );
    expect(jsonBytes(h.incident.view())).toBeLessThan(MAX_RECORDS_BYTES + 64 * 1024);
    // The same bound for lessons and follow-ups; a short note still fits.
    expect(h.refusal('recordLessons', { by: 'alice', lessonsLearned: [wide(0)] })).toMatch(/this update's lessons/);
    h.send('addFollowUp', { by: 'alice', title: 'rotate keys', owner: 'bob', due: '2026-12-10' });
    h.send('addNote', { by: 'alice', text: 'short' });
    expect(h.incident.state.notes).toHaveLength(11);
  });
});

describe('addFollowUp and completeFollowUp', () => {
  it('number follow-ups, take a day (due at its end, UTC) or a time, and complete them once', () => {
    const h = harness();
    h.send('addFollowUp', { by: 'alice', title: 'rotate keys', owner: 'bob', due: '2026-12-10' });
    h.send('addFollowUp', { by: 'alice', title: 'fix WAF rule', owner: 'carol', due: '2026-12-04T17:00:00+01:00' });
    expect(h.incident.view().followUps?.map((f) => [f.id, f.owner, new Date(f.dueAt).toISOString()])).toEqual([
      ['F1', 'bob', '2026-12-10T23:59:59.999Z'],
      ['F2', 'carol', '2026-12-04T16:00:00.000Z'],
    ]);
    h.tick(1000);
    h.send('completeFollowUp', { by: 'bob', followUpId: 'F1', note: 'rotated' });
    expect(h.incident.state.followUps?.[0]).toMatchObject({ doneBy: 'bob', note: 'rotated' });
    expect(h.refusal('completeFollowUp', { by: 'bob', followUpId: 'F1' })).toBe(
      'follow-up "F1" was already completed by bob',
    );
    expect(h.refusal('completeFollowUp', { by: 'bob', followUpId: 'F7' })).toBe(
      `no follow-up "F7" on incident ${ID}; its follow-ups are: F1, F2`,
    );
  });

  it('refuse a bad due date, a bad id, an incident without follow-ups', () => {
    const h = harness();
    expect(h.refusal('addFollowUp', { by: 'a', title: 't', owner: 'o', due: 'next week' })).toMatch(
      /^invalid input: due: expected a due date like 2026-12-10/,
    );
    expect(h.refusal('completeFollowUp', { by: 'a', followUpId: '1' })).toMatch(/followUpId: expected the id/);
    expect(h.refusal('completeFollowUp', { by: 'a', followUpId: 'F1' })).toBe(
      `no follow-up "F1" on incident ${ID}; it has none`,
    );
  });

  it('remind the owner of each open follow-up once when it falls due, and never a done one', () => {
    const h = harness();
    const opened = h.incident.state.openedAt;
    const iso = (ms: number) => new Date(ms).toISOString();
    h.send('addFollowUp', { by: 'a', title: 'later', owner: 'bob', due: iso(opened + 2 * DAY) });
    h.send('addFollowUp', { by: 'a', title: 'soon', owner: 'carol', due: iso(opened + DAY) });
    h.send('addFollowUp', { by: 'a', title: 'done first', owner: 'dave', due: iso(opened + DAY) });
    h.send('completeFollowUp', { by: 'dave', followUpId: 'F3' });
    expect(h.incident.nextFollowUpDueAt).toBe(opened + DAY);
    h.tick(DAY);
    h.incident.remindDueFollowUps();
    expect(h.calls.filter((c) => c.startsWith('tell:'))).toEqual(['tell:follow_up_due:internal']);
    expect(h.incident.nextFollowUpDueAt).toBe(opened + 2 * DAY);
    h.incident.remindDueFollowUps();
    expect(h.calls.filter((c) => c.startsWith('tell:'))).toHaveLength(1);
    expect(h.incident.timeline.filter((e) => e.type === 'follow_up_due')).toHaveLength(1);
  });
});
