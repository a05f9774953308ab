/** The rules of 6-card Golf as a pure Decider: decide(command, state) -> events, evolve(state, event). */
export * from './cards.js';
export * from './options.js';
export * from './randomness.js';
export * from './scoring.js';
export * from './types.js';
export { decide, decideNextGame, nameKey } from './decide.js';
export { evolve, replay, emptyState, EventApplyError } from './evolve.js';
export { faceDownCount, findPlayer, isInPlay, humanCount } from './state.js';
export { viewFor, mustFor, personalView, playerView, type PersonalView, type GameView, type PlayerView, type CardView, type Must, type RoomTimers } from './view.js';
