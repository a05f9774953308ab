/** decideNextGame (pure): the opening of a new game at a finished game's table. */
import { describe, expect, it } from 'vitest';
import { playCpuGame, simulationEntropy } from '../../src/ai/selfplay.js';
import { decideNextGame, emptyState, evolve, type GameState } from '../../src/game/index.js';

function finishedWithHumanHost(): GameState {
  const { state } = playCpuGame(7, 3, { rounds: 1, use_jokers: true, knock_bonus: true });
  const players = state.players.map((p, i) => (i === 0 ? { ...p, is_cpu: false, cpu_profile: null, token_hash: 'hash-host' } : p));
  return { ...state, players };
}

describe('decideNextGame', () => {
  it('seats everyone again with the same options and starts the new game; the same entropy gives the same events', () => {
    const over = finishedWithHumanHost();
    expect(over.phase).toBe('game_over');
    const entropy = simulationEntropy('next', 1);
    const decision = decideNextGame(over, over.host_id, 'g-next', entropy);
    if (!decision.ok) throw new Error(decision.refusal.message);
    expect(decideNextGame(over, over.host_id, 'g-next', entropy)).toEqual(decision);
    const fresh = decision.events.reduce(evolve, emptyState());
    expect(fresh.game_id).toBe('g-next');
    expect(fresh.room).toBe(over.room);
    expect(fresh.options).toEqual(over.options);
    expect(fresh.host_id).toBe(over.host_id);
    expect(fresh.phase).toBe('initial_flip');
    expect(fresh.round).toBe(1);
    expect(fresh.seq).toBe(decision.events.length);
    expect(fresh.players.map((p) => [p.id, p.name, p.is_cpu, p.cpu_profile, p.token_hash])).toEqual(over.players.map((p) => [p.id, p.name, p.is_cpu, p.cpu_profile, p.is_cpu ? null : p.token_hash]));
    expect(fresh.players.every((p) => p.total_score === 0 && p.rounds_won === 0 && p.hand.length === 6)).toBe(true);
  });

  it('refuses before the game is over, and anyone but the host', () => {
    const over = finishedWithHumanHost();
    const entropy = simulationEntropy('next', 2);
    expect(decideNextGame({ ...over, phase: 'round_over' }, over.host_id, 'g', entropy)).toMatchObject({ ok: false, refusal: { code: 'invalid_move' } });
    expect(decideNextGame(over, over.players[1]!.id, 'g', entropy)).toMatchObject({ ok: false, refusal: { code: 'not_host' } });
    expect(decideNextGame(over, 'nobody', 'g', entropy)).toMatchObject({ ok: false, refusal: { code: 'unauthorized' } });
  });
});
