/**
 * Plays CPU-only games across random option sets (2 to 6 players) to the end and counts
 * blunders with the independent checker. Usage:
 *   npx tsx scripts/simulate-cpu.ts [--games 1000] [--seed 0] [--rounds N]
 */
import { parseArgs } from 'node:util';
import { playCpuGame, randomOptions } from '../src/ai/selfplay.js';
import { checkMove, type Blunder } from '../test/support/blunders.js';
import { progress, resultTable } from './lib/report.js';

const { values } = parseArgs({
  options: {
    games: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '0' },
    rounds: { type: 'string' },
  },
});
const games = Number(values.games);
const firstSeed = Number(values.seed);
const blunders: Array<Blunder & { game: number }> = [];
const byKind = new Map<string, number>();
let moves = 0;
let rounds = 0;
const started = performance.now();
const bar = progress('CPU games', games, 'games');
for (let game = firstSeed; game < firstSeed + games; game++) {
  bar.update(game - firstSeed, `${moves} moves, ${blunders.length} blunders`);
  const options = randomOptions(game);
  if (values.rounds) options.rounds = Number(values.rounds);
  const result = playCpuGame(game, 2 + (game % 5), options, {
    beforeMove: (view, move) => {
      moves++;
      for (const blunder of checkMove(view, move)) {
        blunders.push({ ...blunder, game });
        byKind.set(blunder.kind, (byKind.get(blunder.kind) ?? 0) + 1);
      }
    },
  });
  rounds += result.state.round;
  if (result.state.phase !== 'game_over') throw new Error(`game ${game} did not end`);
}
bar.stop();
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  resultTable(
    ['measure', 'value'],
    [
      ['games played to the end', `${games} (seeds ${firstSeed}..${firstSeed + games - 1})`],
      ['rounds', rounds],
      ['CPU moves', moves],
      ['blunders', `${blunders.length}${blunders.length ? ` ${JSON.stringify(Object.fromEntries(byKind))}` : ''}`],
      ['time', `${seconds.toFixed(2)} s (${(moves / seconds).toFixed(0)} moves/s)`],
    ],
  ),
);
for (const b of blunders.slice(0, 10)) process.stdout.write(`  game ${b.game}: ${b.kind}: ${b.detail}\n`);
process.exitCode = blunders.length === 0 ? 0 : 1;
