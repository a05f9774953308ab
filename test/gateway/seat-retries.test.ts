import { describe, expect, it } from 'vitest';
import { SeatRetries } from '../../src/gateway/seat-retries.js';
import type { Seat } from '../../src/runtime/runtime.js';
import type { GameView } from '../../src/game/view.js';

const seat: Seat = { ok: true, room: 'ABCD', player_id: 'p_1', token: 'ABCD.p_1.secret', seq: 3, view: { room: 'ABCD' } as GameView };
const tick = () => new Promise((r) => setImmediate(r));

describe('SeatRetries', () => {
  it('answers a retry with the seat the first attempt took, and does not keep its view once taken', async () => {
    const retries = new SeatRetries();
    retries.remember('c1', 'fp', Promise.resolve(seat));
    // Pending or not, a retry gets the same seat.
    await tick();
    const kept = retries.earlier('c1', 'fp');
    expect(kept).not.toBe('other');
    const again = await (kept as Promise<unknown>);
    expect(again).toEqual({ ok: true, room: 'ABCD', player_id: 'p_1', token: 'ABCD.p_1.secret', seq: 3 });
    expect(again).not.toHaveProperty('view');
    expect(retries.earlier('c1', 'other content')).toBe('other');
  });

  it('forgets a refusal (it may be retried for real) and keeps at most 16 ids', async () => {
    const retries = new SeatRetries();
    retries.remember('no', 'fp', Promise.resolve({ ok: false, code: 'room_full', message: 'full' }));
    await tick();
    expect(retries.earlier('no', 'fp')).toBeNull();
    for (let i = 0; i < 17; i++) retries.remember(`id${i}`, 'fp', Promise.resolve(seat));
    await tick();
    expect(retries.earlier('id0', 'fp')).toBeNull();
    expect(retries.earlier('id16', 'fp')).not.toBeNull();
  });
});
