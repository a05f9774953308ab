import { CPU_PROFILES } from '../../../src/ai/profiles.js';
import { cpuStyle } from '../components/hand.js';
import { icons } from '../components/icons.js';
import { optionsFormHtml } from '../components/options-form.js';
import { esc } from '../escape.js';
import type { View } from '../types.js';

export interface LobbyProps {
  host: boolean;
  invite: string;
  copy: 'idle' | 'copied' | 'manual';
  error: string | null;
  enabled: boolean;
}

/** The lobby: who is here, the invite link, CPUs and options for the host, Start. */
export function lobbyHtml(v: View, props: LobbyProps): string {
  const dis = props.enabled ? '' : 'aria-disabled="true"';
  const players = v.players
    .map(
      (p) => `<li data-testid="lobby-player" data-key="lobby-${esc(p.id)}">
        <span class="dot ${p.connected ? 'on' : ''}" role="img" aria-label="${p.connected ? 'connected' : 'away'}"></span>
        <span class="name" title="${esc(p.name)}">${esc(p.name)}</span>
        ${p.id === v.you ? '<span class="you-tag">(you)</span>' : ''}
        ${p.is_cpu ? `<span class="badge cpu">${icons.cpu()} CPU · ${esc(cpuStyle(p.cpu_profile))}</span>` : ''}
        ${p.id === v.host_id ? '<span class="badge host">host</span>' : ''}
        ${props.host && p.id !== v.you ? `<button type="button" class="small" data-key="remove-${esc(p.id)}" data-action="remove" data-player="${esc(p.id)}" aria-label="Remove ${esc(p.name)}" ${dis}>Remove</button>` : ''}
      </li>`,
    )
    .join('');
  const copyNote =
    props.copy === 'copied'
      ? '<span class="hint" data-testid="copy-note">Copied to the clipboard.</span>'
      : props.copy === 'manual'
        ? '<span class="hint" data-testid="copy-note">Copying is not available here: the link is selected, copy it with Ctrl+C (or long-press).</span>'
        : '';
  const short = v.players.length < 2;
  const hostControls = `
    <div class="add-cpu">
      <label for="cpu">CPU player</label>
      <div class="row">
        <select id="cpu"><option value="">Random personality</option>${CPU_PROFILES.map((p) => `<option value="${p.name}">${p.name} (${p.style})</option>`).join('')}</select>
        <button type="button" data-key="add-cpu" data-action="add-cpu" data-testid="add-cpu" ${v.players.length >= 6 ? 'disabled' : ''} ${dis}>Add CPU</button>
      </div>
    </div>
    <button type="button" class="primary" data-key="start" data-action="start" data-testid="start" ${short ? 'disabled aria-describedby="start-hint"' : ''} ${dis}>Start game</button>
    ${short ? '<p class="hint" id="start-hint" data-testid="start-hint">A game needs at least 2 players: add a CPU or share the invite link.</p>' : ''}`;
  return `
  <section class="lobby" data-key="screen-lobby">
    <header class="bar">
      <h1 tabindex="-1">Room <span class="code" data-testid="room-code">${esc(v.room)}</span></h1>
      <button type="button" class="ghost" data-key="leave" data-action="leave" ${dis}>${icons.leave()} Leave</button>
    </header>
    ${props.error ? `<p class="error" data-testid="error">${esc(props.error)}</p>` : ''}
    <div class="invite">
      <label for="invite-link">${icons.link()} Invite link</label>
      <div class="row">
        <input id="invite-link" readonly value="${esc(props.invite)}" />
        <a href="${esc(props.invite)}" data-testid="invite" class="sr-only" tabindex="-1">Invite link</a>
        <button type="button" class="small" data-key="copy" data-action="copy" data-link="${esc(props.invite)}">${icons.copy()} ${props.copy === 'copied' ? 'Copied' : 'Copy'}</button>
      </div>
      ${copyNote}
    </div>
    <div class="panels">
      <div class="panel">
        <h2>Players (${v.players.length}/6)</h2>
        <ul class="players">${players}</ul>
        ${props.host ? hostControls : '<p class="hint">Waiting for the host to start…</p>'}
      </div>
      <div class="panel">${optionsFormHtml(v.options, props.host, 'lobby', true)}</div>
    </div>
  </section>`;
}
