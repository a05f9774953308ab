import { expect } from 'vitest';
import { replay, viewFor, type GameEvent, type GameState } from '../../src/game/index.js';
import type { Frame } from './client.js';

/** GET /api/replays/{id} on a node: its status and body. */
export async function fetchReplay(port: number, replayId: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}/api/replays/${encodeURIComponent(replayId)}`);
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** Folds a replay document's events with the engine, as the web client does. */
export function foldReplay(body: { events: Array<{ type: string; player_id: string | null; data: unknown }> }): GameState {
  return replay(body.events.map((e) => ({ type: e.type, player_id: e.player_id, data: e.data }) as GameEvent));
}

/**
 * A seated player's final view (game_over) carries a replay id; the replay served for it,
 * folded with the engine, ends in exactly the view that player saw (presence and the spectator
 * count are the room's runtime data, taken from the view itself).
 */
export async function expectReplayEndsAsSeen(port: number, finalView: Frame): Promise<GameState> {
  expect(finalView.phase).toBe('game_over');
  expect(finalView.replay_id).toMatch(/^[0-9a-f]{32}$/);
  const { status, body } = await fetchReplay(port, finalView.replay_id);
  expect(status).toBe(200);
  expect(JSON.stringify(body)).not.toMatch(/"token_hash":"/);
  const state = foldReplay(body);
  const connected = new Set<string>(finalView.players.filter((p: { connected: boolean }) => p.connected).map((p: { id: string }) => p.id));
  expect(viewFor(state, finalView.you, connected, { next_round_at: finalView.next_round_at }, finalView.spectators)).toEqual(finalView);
  return state;
}
