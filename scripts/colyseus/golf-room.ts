/**
 * The Colyseus baseline for scripts/bench-node.ts: a minimal 4-player room with our turn flow
 * (draw from the deck or the discard pile, then swap into the hand or discard), its state in
 * @colyseus/schema, and `broadcastPatch()` after each command, as the outside review measured it.
 * Nothing is persisted; nothing is hidden (it is a cost baseline, not a game).
 */
import { Room, type Client } from '@colyseus/core';
import { ArraySchema, MapSchema, schema, t } from '@colyseus/schema';

export const Player = schema({
  id: t.string(),
  hand: t.array('uint8'),
  faceUp: t.array('boolean'),
  score: t.int16(),
}, 'Player');

export const Table = schema({
  players: t.map(Player),
  order: t.array('string'),
  turn: t.uint8(),
  drawn: t.int8(),
  discardTop: t.uint8(),
  deckCount: t.uint8(),
  moves: t.uint32(),
}, 'Table');

type TableState = InstanceType<typeof Table>;

const card = () => Math.floor(Math.random() * 13) + 1;

export class GolfRoom extends Room<{ state: TableState }> {
  override maxClients = 4;
  override state = new Table();

  override onCreate(): void {
    this.autoDispose = true;
    // Patches go out after each command (broadcastPatch), not on a timer.
    this.patchRate = null;
    this.state.players = new MapSchema();
    this.state.order = new ArraySchema();
    this.state.turn = 0;
    this.state.moves = 0;
    this.state.drawn = -1;
    this.state.discardTop = card();
    this.state.deckCount = 52;
    this.onMessage('draw', (client, message: { source: 'deck' | 'discard' }) => {
      if (!this.isTurnOf(client) || this.state.drawn >= 0) return;
      this.state.drawn = message.source === 'discard' ? this.state.discardTop : card();
      if (message.source === 'deck') this.state.deckCount = this.state.deckCount > 1 ? this.state.deckCount - 1 : 52;
      this.broadcastPatch();
    });
    this.onMessage('swap', (client, message: { position: number }) => {
      const player = this.state.players.get(client.sessionId);
      if (!player || !this.isTurnOf(client) || this.state.drawn < 0) return;
      const position = Math.max(0, Math.min(5, message.position | 0));
      this.state.discardTop = player.hand[position]!;
      player.hand[position] = this.state.drawn;
      player.faceUp[position] = true;
      this.endTurn(player);
    });
    this.onMessage('discard', (client) => {
      const player = this.state.players.get(client.sessionId);
      if (!player || !this.isTurnOf(client) || this.state.drawn < 0) return;
      this.state.discardTop = this.state.drawn;
      this.endTurn(player);
    });
  }

  override onJoin(client: Client): void {
    const player = new Player();
    player.id = client.sessionId;
    player.hand = new ArraySchema(...Array.from({ length: 6 }, card));
    player.faceUp = new ArraySchema(...Array.from({ length: 6 }, () => false));
    this.state.players.set(client.sessionId, player);
    this.state.order.push(client.sessionId);
    this.broadcastPatch();
  }

  override onLeave(client: Client): void {
    this.state.players.delete(client.sessionId);
    const index = this.state.order.indexOf(client.sessionId);
    if (index >= 0) this.state.order.splice(index, 1);
  }

  private isTurnOf(client: Client): boolean {
    return this.state.order.length === 4 && this.state.order[this.state.turn % this.state.order.length] === client.sessionId;
  }

  private endTurn(player: InstanceType<typeof Player>): void {
    this.state.drawn = -1;
    this.state.moves += 1;
    // A hand all face up starts over, so games go on for the whole run.
    if (player.faceUp.every(Boolean)) for (let i = 0; i < 6; i++) (player.faceUp[i] = false, (player.hand[i] = card()));
    player.score = player.hand.reduce((sum, c) => sum + c, 0);
    this.state.turn = (this.state.turn + 1) % 4;
    this.broadcastPatch();
  }
}
