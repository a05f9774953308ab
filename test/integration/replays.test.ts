/**
 * Replays (README "Replays"): a finished game's events by its unguessable replay id, which its
 * seated players get in the game_over view; a game that is not finished is never served, and
 * the answer does not tell whether a game exists.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../support/client.js';
import { cleanup, DATABASE_URL, startTestNode } from '../support/node.js';
import { playUntil } from '../support/play.js';
import { expectReplayEndsAsSeen, fetchReplay } from '../support/replay.js';
import { auditFrame, auditTotals, settleAudit } from '../support/replay-audit.js';

let node: Awaited<ReturnType<typeof startTestNode>>;
let sql: postgres.Sql;

beforeAll(async () => {
  node = await startTestNode();
  sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await node.drain();
  await sql.end();
  await cleanup(node.config);
});

const table = () => sql(node.config.DATABASE_SCHEMA);

describe('replays', () => {
  it('an unfinished game has no replay: no id in any view, and 404 for its game id, its code, made-up ids, even an id planted on its row', async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
    await host.ok({ type: 'add_cpu', profile: 'Sofia' });
    await host.ok({ type: 'start_game' });
    await playUntil(host, () => host.seq >= 6);
    for (const frame of host.frames) if (frame.state) expect(frame.state.replay_id).toBeNull();
    const gameId = host.view.game_id as string;
    const planted = 'ab'.repeat(16);
    await sql`update ${table()}.games set replay_id = ${planted} where game_id = ${gameId}`;
    const unknown = await fetchReplay(node.port, 'cd'.repeat(16));
    for (const id of [gameId, host.room, planted, 'not-hex', `${planted}0`]) {
      const answer = await fetchReplay(node.port, id);
      expect(answer.status).toBe(404);
      expect(answer.body).toEqual(unknown.body);
    }
    await host.close();
  });

  it('a finished game: its players get one replay id, anyone with it gets the events (no token hash), and their fold ends as the players saw it', async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 2, initial_flips: 1 } });
    const guest = await TestClient.connect(node.port);
    await guest.ok({ type: 'join_room', room: host.room, name: 'Guest' });
    await host.ok({ type: 'add_cpu', profile: 'Marcus' });
    await host.ok({ type: 'start_game' });
    await Promise.all([playUntil(host, () => false), playUntil(guest, () => false, 1)]);
    const [hostView, guestView] = await Promise.all([host, guest].map((c) => c.waitForState((v) => v.phase === 'game_over')));
    expect(hostView!.replay_id).toBe(guestView!.replay_id);
    // Not derived from what players know: unrelated to the code or the game id.
    expect(hostView!.replay_id).not.toContain(hostView!.game_id.replaceAll('-', '').slice(0, 8));
    const state = await expectReplayEndsAsSeen(node.port, hostView!);
    await expectReplayEndsAsSeen(node.port, guestView!);
    expect(state.phase).toBe('game_over');
    const { body } = await fetchReplay(node.port, hostView!.replay_id);
    expect(body).toMatchObject({ replay_id: hostView!.replay_id, room: host.room, game_id: hostView!.game_id });
    expect(body.events.map((e: { seq: number }) => e.seq)).toEqual(body.events.map((_: unknown, i: number) => i + 1));
    // A player who comes back after the game gets the link again.
    const back = await TestClient.connect(node.port);
    await back.ok({ type: 'resume', token: guest.token });
    expect(back.view.replay_id).toBe(hostView!.replay_id);
    // Another game gets another id.
    const other = await TestClient.connect(node.port);
    await other.ok({ type: 'create_room', name: 'Other', options: { rounds: 1, initial_flips: 0 } });
    await other.ok({ type: 'add_cpu' });
    await other.ok({ type: 'start_game' });
    await playUntil(other, () => false);
    const otherView = await other.waitForState((v) => v.phase === 'game_over');
    expect(otherView.replay_id).toMatch(/^[0-9a-f]{32}$/);
    expect(otherView.replay_id).not.toBe(hostView!.replay_id);
    await Promise.all([host, guest, back, other].map((c) => c.close()));
  });

  it('seats left after the game is over (the players going back to the start) change nothing of its replay: it ends at game_ended, in the state the players saw then', async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
    const guest = await TestClient.connect(node.port);
    await guest.ok({ type: 'join_room', room: host.room, name: 'Guest' });
    await host.ok({ type: 'add_cpu', profile: 'Sofia' });
    await host.ok({ type: 'start_game' });
    await Promise.all([playUntil(host, () => false), playUntil(guest, () => false, 1)]);
    const [hostEnd, guestEnd] = await Promise.all([host, guest].map((c) => c.waitForState((v) => v.phase === 'game_over')));
    const atEnd = await fetchReplay(node.port, hostEnd!.replay_id);
    // The guest goes back to the start: a CPU takes the seat, an event of the finished game.
    await guest.ok({ type: 'leave' });
    await host.waitForState((v) => v.players.find((p: { id: string }) => p.id === guest.playerId)?.is_cpu === true);
    const later = await fetchReplay(node.port, hostEnd!.replay_id);
    expect(later.status).toBe(200);
    expect(later.body.events.at(-1).type).toBe('game_ended');
    expect(later.body).toEqual(atEnd.body);
    await expectReplayEndsAsSeen(node.port, hostEnd!);
    await expectReplayEndsAsSeen(node.port, guestEnd!);
    await Promise.all([host, guest].map((c) => c.close()));
  });

  it('the audit every test file runs (replay-audit.ts) checks each final view a client gets, and finds a view that differs from its replay', async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
    await host.ok({ type: 'add_cpu', profile: 'Sofia' });
    const before = auditTotals.views;
    await host.ok({ type: 'start_game' });
    await playUntil(host, () => false);
    const final = await host.waitForState((v) => v.phase === 'game_over');
    // The client's own final view was checked, and equals its replay.
    expect(await settleAudit()).toEqual([]);
    expect(auditTotals.views).toBeGreaterThan(before);
    // A final view one point off, or with a card the replay does not have, is told apart.
    const tampered = structuredClone(final);
    tampered.players[0].total_score += 1;
    auditFrame(node.port, { type: 'state', seq: host.seq, state: tampered });
    const swapped = structuredClone(final);
    swapped.players[1].cards[0] = { ...swapped.players[1].cards[0], rank: swapped.players[1].cards[0].rank === 'K' ? 'Q' : 'K' };
    auditFrame(node.port, { type: 'state', seq: host.seq, state: swapped });
    const found = await settleAudit();
    expect(found).toHaveLength(2);
    for (const f of found) expect(f).toContain('ends in another state than');
    await host.close();
  });
});
