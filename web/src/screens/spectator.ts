import { cpuStyle } from '../components/hand.js';
import { icons } from '../components/icons.js';
import { esc } from '../escape.js';
import type { View } from '../types.js';
import { tableHtml, type TableProps } from './table.js';

/** "3 watching": how many spectators a table has, for players and spectators alike (none: nothing). */
export function watchingBadge(v: View): string {
  const n = v.spectators ?? 0;
  if (n <= 0) return '';
  return `<span class="watching" data-key="watching" data-testid="spectators" title="Spectators">${icons.flag()} ${n} watching</span>`;
}

/**
 * A spectator's screen: the public view, read-only. In the lobby, who is seated so far; once
 * the game runs, the table component every player sees, without a seat of its own.
 */
export function spectatorHtml(v: View, props: TableProps): string {
  const header = `<span class="badge spectator" data-testid="spectating">Spectating</span>${watchingBadge(v)}
    <button type="button" class="ghost" data-key="stop-watching" data-action="stop-watching" data-testid="stop-watching">Stop watching</button>`;
  if (v.phase !== 'lobby') return tableHtml(v, { ...props, enabled: false, confirmLeave: false, headerExtra: header });
  const players = v.players.map((p) => `<li data-testid="lobby-player" data-key="lobby-${esc(p.id)}"><span class="name">${esc(p.name)}</span>${p.is_cpu ? ` <span class="badge cpu">${icons.cpu()} CPU · ${esc(cpuStyle(p.cpu_profile))}</span>` : ''}</li>`).join('');
  return `
  <section class="lobby" data-key="screen-spectator-lobby">
    <header class="bar"><h1>Room <span class="code">${esc(v.room)}</span></h1>${header}</header>
    <p class="hint">The game has not started yet: it shows here as soon as the host starts it.</p>
    <ul class="players">${players}</ul>
  </section>`;
}
