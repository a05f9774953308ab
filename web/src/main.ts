import './style.css';
import { Connection, storeToken, storedToken, type ServerMessage } from './connection';

type Card = { face_up: true; rank: string; suit: string; deck: number } | { face_up: false; deck: number };
interface Player {
  id: string;
  name: string;
  is_cpu: boolean;
  cpu_profile: string | null;
  connected: boolean;
  cards: Card[];
  round_score: number | null;
  total_score: number;
  rounds_won: number;
}
interface View {
  room: string;
  game_id: string;
  phase: 'lobby' | 'initial_flip' | 'playing' | 'final_turn' | 'round_over' | 'game_over';
  round: number;
  rounds: number;
  options: Record<string, any>;
  host_id: string;
  you: string | null;
  players: Player[];
  current_player_id: string | null;
  deck_count: number;
  discard_top: { rank: string; suit: string; deck: number } | null;
  drawn_card: { rank: string; suit: string; deck: number } | null;
  drawn_from: 'deck' | 'discard' | null;
  finisher_id: string | null;
  must: null | 'flip_initial' | 'draw' | 'place' | 'swap' | 'flip' | 'flip_or_skip';
  winner_ids: string[];
}

const CPU_NAMES = ['Sofia', 'Maya', 'Priya', 'Marcus', 'Kenji', 'Diego', 'River', 'Sage'];
const RULES: Array<[string, string]> = [
  ['use_jokers', 'Jokers (-2)'],
  ['lucky_swing', 'Lucky swing: one Joker, -5'],
  ['super_kings', 'Super kings: K is -2'],
  ['ten_penny', 'Ten penny: 10 is 1'],
  ['one_eyed_jacks', 'One-eyed jacks: J♥ J♠ are 0'],
  ['eagle_eye', 'Eagle eye: Joker pair -4, single +2'],
  ['negative_pairs_keep_value', 'Negative pairs keep their value'],
  ['wolfpack', 'Wolfpack: two Jack pairs -20'],
  ['four_of_a_kind', 'Four of a kind: -20'],
  ['blackjack', 'Blackjack: 21 scores 0'],
  ['knock_penalty', 'Knock penalty: +10 if beaten'],
  ['knock_bonus', 'Knock bonus: -5 for going out'],
  ['underdog_bonus', 'Underdog bonus: lowest -3'],
  ['tied_shame', 'Tied shame: ties +5'],
  ['flip_as_action', 'Flip a card instead of drawing'],
  ['knock_early', 'Knock early with 1–2 cards down'],
];
const SUIT_SYMBOL: Record<string, string> = { hearts: '♥', diamonds: '♦', clubs: '♣', spades: '♠' };

const app = document.getElementById('app')!;
const banner = document.getElementById('banner')!;
const params = new URLSearchParams(location.search);

let view: View | null = null;
let previous: View | null = null;
let status: 'connecting' | 'open' | 'reconnecting' = 'connecting';
let error: string | null = null;
let selected: number[] = [];
let draftOptions: Record<string, any> = JSON.parse(localStorage.getItem('golf:options') ?? '{"rounds":9}');

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const connection = new Connection(wsUrl, {
  message: onMessage,
  status: (next) => {
    status = next;
    renderBanner();
  },
});

/** The room sequence of the view shown. */
let seq = 0;

function onMessage(message: ServerMessage): void {
  switch (message.type) {
    case 'welcome':
      // Counted for tests and tools: a new welcome means the seat was (re)gained.
      document.body.dataset.welcomes = String(Number(document.body.dataset.welcomes ?? 0) + 1);
      storeToken(message.token);
      error = null;
      history.replaceState(null, '', `?room=${message.room}`);
      seq = message.seq;
      setView(message.state);
      break;
    case 'state':
      // Frames can arrive late over the cluster's bus (a node waking from a pause): never go
      // back to an older view of the same game. Presence changes keep the same seq.
      if (view && message.state.game_id === view.game_id && message.seq < seq) break;
      seq = message.seq;
      setView(message.state);
      break;
    case 'error':
      if (message.code === 'unauthorized' && !view) storeToken(null); // a stale token: start over
      error = message.message;
      render();
      break;
  }
}

function setView(next: View): void {
  previous = view;
  view = next;
  if (next.must !== 'flip_initial') selected = [];
  render();
}

function me(): Player | undefined {
  return view?.players.find((p) => p.id === view?.you);
}

function isHost(): boolean {
  return !!view && view.you === view.host_id;
}

// ---------- rendering ----------

const esc = (text: unknown) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function cardHtml(card: Card | { rank: string; suit: string; deck: number; face_up?: true } | null, attrs = '', extra = ''): string {
  if (!card) return `<div class="card empty" ${attrs}></div>`;
  if (card.face_up === false) return `<div class="card back deck${card.deck} ${extra}" ${attrs} data-face="down"></div>`;
  const red = card.suit === 'hearts' || card.suit === 'diamonds';
  const rank = card.rank === 'JOKER' ? '🃏' : card.rank;
  return `<div class="card face ${red ? 'red' : ''} ${extra}" ${attrs} data-face="up"><span class="rank">${esc(rank)}</span><span class="suit">${card.rank === 'JOKER' ? 'Joker' : SUIT_SYMBOL[card.suit] ?? ''}</span></div>`;
}

function changed(playerIndex: number, position: number): boolean {
  if (!previous || !view || previous.round !== view.round) return false;
  const before = previous.players[playerIndex]?.cards[position];
  const after = view.players[playerIndex]?.cards[position];
  return JSON.stringify(before) !== JSON.stringify(after);
}

function render(): void {
  document.body.dataset.phase = view?.phase ?? 'home';
  document.body.dataset.must = view?.must ?? '';
  if (!view || !view.you) app.innerHTML = homeHtml();
  else if (view.phase === 'lobby') app.innerHTML = lobbyHtml(view);
  else app.innerHTML = gameHtml(view);
  renderBanner();
}

function renderBanner(): void {
  banner.hidden = status !== 'reconnecting';
  banner.textContent = status === 'reconnecting' ? 'Reconnecting…' : '';
  document.body.dataset.connection = status;
}

function errorHtml(): string {
  return error ? `<p class="error" role="alert" data-testid="error">${esc(error)}</p>` : '';
}

function homeHtml(): string {
  const name = localStorage.getItem('golf:name') ?? '';
  const code = params.get('room') ?? '';
  return `
  <section class="home">
    <h1>⛳ Golf <small>six-card</small></h1>
    <p class="tagline">Lowest score after all holes wins. Pair columns, dodge the Queens.</p>
    ${errorHtml()}
    <label class="field">Your name <input id="name" maxlength="24" autocomplete="nickname" value="${esc(name)}" placeholder="Name" /></label>
    <div class="panels">
      <div class="panel">
        <h2>Join a room</h2>
        <label class="field">Room code <input id="code" maxlength="4" value="${esc(code)}" placeholder="ABCD" autocapitalize="characters" /></label>
        <button data-action="join" data-testid="join" ${storedToken() && status !== 'open' ? 'disabled' : ''}>Join</button>
      </div>
      <div class="panel">
        <h2>New room</h2>
        ${optionsFormHtml(draftOptions, true)}
        <button class="primary" data-action="create" data-testid="create">Create room</button>
      </div>
    </div>
  </section>`;
}

function optionsFormHtml(options: Record<string, any>, editable: boolean, open = !editable): string {
  const dis = editable ? '' : 'disabled';
  const rules = RULES.map(
    ([key, label]) => `<label class="rule"><input type="checkbox" data-option="${key}" ${options[key] ? 'checked' : ''} ${dis} /> ${esc(label)}</label>`,
  ).join('');
  return `
  <details class="options" ${open ? 'open' : ''}>
    <summary>House rules</summary>
    <div class="option-row">
      <label>Holes <select data-option="rounds" ${dis}>${Array.from({ length: 18 }, (_, i) => `<option ${Number(options.rounds ?? 9) === i + 1 ? 'selected' : ''}>${i + 1}</option>`).join('')}</select></label>
      <label>Initial flips <select data-option="initial_flips" ${dis}>${[0, 1, 2].map((n) => `<option ${Number(options.initial_flips ?? 2) === n ? 'selected' : ''}>${n}</option>`).join('')}</select></label>
      <label>Flip after discard <select data-option="flip_mode" ${dis}>${['never', 'always', 'endgame'].map((m) => `<option ${(options.flip_mode ?? 'never') === m ? 'selected' : ''}>${m}</option>`).join('')}</select></label>
      <label>Decks <select data-option="decks" ${dis}><option value="" ${options.decks == null ? 'selected' : ''}>auto</option>${[1, 2, 3].map((n) => `<option ${options.decks === n ? 'selected' : ''}>${n}</option>`).join('')}</select></label>
    </div>
    <div class="rules">${rules}</div>
  </details>`;
}

function lobbyHtml(v: View): string {
  const host = isHost();
  const invite = `${location.origin}${location.pathname}?room=${v.room}`;
  const players = v.players
    .map(
      (p) => `<li data-testid="lobby-player">
        <span class="dot ${p.connected ? 'on' : ''}" title="${p.connected ? 'connected' : 'away'}"></span>
        ${esc(p.name)} ${p.is_cpu ? `<span class="badge">CPU · ${esc(p.cpu_profile)}</span>` : ''} ${p.id === v.host_id ? '<span class="badge host">host</span>' : ''}
        ${host && p.id !== v.you ? `<button class="small" data-action="remove" data-player="${esc(p.id)}">Remove</button>` : ''}
      </li>`,
    )
    .join('');
  return `
  <section class="lobby">
    <header class="bar"><h1>Room <span class="code" data-testid="room-code">${esc(v.room)}</span></h1><button class="ghost" data-action="leave">Leave</button></header>
    ${errorHtml()}
    <p class="invite">Invite: <a href="${esc(invite)}" data-testid="invite">${esc(invite)}</a> <button class="small" data-action="copy" data-link="${esc(invite)}">Copy</button></p>
    <div class="panels">
      <div class="panel">
        <h2>Players (${v.players.length}/6)</h2>
        <ul class="players">${players}</ul>
        ${
          host
            ? `<div class="add-cpu"><select id="cpu"><option value="">Random CPU</option>${CPU_NAMES.map((n) => `<option>${n}</option>`).join('')}</select>
               <button data-action="add-cpu" data-testid="add-cpu" ${v.players.length >= 6 ? 'disabled' : ''}>Add CPU</button></div>
               <button class="primary" data-action="start" data-testid="start" ${v.players.length < 2 ? 'disabled' : ''}>Start game</button>`
            : '<p class="hint">Waiting for the host to start…</p>'
        }
      </div>
      <div class="panel">${optionsFormHtml(v.options, host, true)}</div>
    </div>
  </section>`;
}

function statusText(v: View): string {
  const current = v.players.find((p) => p.id === v.current_player_id);
  switch (v.must) {
    case 'flip_initial':
      return `Flip ${v.options.initial_flips} of your cards (${selected.length}/${v.options.initial_flips} chosen)`;
    case 'draw':
      return 'Your turn: take the deck or the discard pile' + (v.options.flip_as_action ? ', or flip a card' : '');
    case 'place':
      return 'Swap it into your grid, or discard it';
    case 'swap':
      return 'Swap it into your grid';
    case 'flip':
      return 'Flip one of your face-down cards';
    case 'flip_or_skip':
      return 'Flip a face-down card, or skip';
  }
  if (v.phase === 'initial_flip') return 'Waiting for everyone to flip…';
  if (v.phase === 'round_over') return `Hole ${v.round} is over`;
  if (v.phase === 'game_over') return 'Game over';
  const holding = v.drawn_from ? ` (holding a card from the ${v.drawn_from === 'deck' ? 'deck' : 'discard pile'})` : '';
  const last = v.finisher_id ? ' · final turns!' : '';
  return current ? `${esc(current.name)}’s turn${holding}${last}` : '';
}

function gridHtml(v: View, player: Player, index: number, mine: boolean): string {
  const cards = player.cards
    .map((card, pos) => {
      let action = '';
      if (mine) {
        const down = !card.face_up;
        if ((v.must === 'flip_initial' || v.must === 'flip' || v.must === 'flip_or_skip') && down) action = 'flip';
        else if (v.must === 'place' || v.must === 'swap') action = 'swap';
        else if (v.must === 'draw' && v.options.flip_as_action && down) action = 'flip-action';
      }
      const sel = selected.includes(pos) ? 'selected' : '';
      const attrs = `${mine ? `data-testid="my-card" data-pos="${pos}"` : `data-pos="${pos}"`} ${action ? `data-action="${action}" tabindex="0" role="button"` : ''}`;
      return cardHtml(card, attrs, `${action ? 'clickable' : ''} ${sel} ${changed(index, pos) ? 'changed' : ''}`);
    })
    .join('');
  return `<div class="grid ${mine ? 'mine' : ''}">${cards}</div>`;
}

function gameHtml(v: View): string {
  const mine = me()!;
  const myIndex = v.players.findIndex((p) => p.id === mine.id);
  const others = v.players
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => p.id !== mine.id)
    .map(
      ({ p, i }) => `<div class="opponent ${p.id === v.current_player_id ? 'turn' : ''}" data-testid="opponent">
        <div class="who"><span class="dot ${p.connected ? 'on' : ''}"></span>${esc(p.name)}${p.is_cpu ? ' <span class="badge">CPU</span>' : ''}${p.id === v.finisher_id ? ' <span class="badge out">out</span>' : ''}</div>
        ${gridHtml(v, p, i, false)}
        <div class="score">${p.round_score !== null ? `hole ${p.round_score} · ` : ''}total ${p.total_score}</div>
      </div>`,
    )
    .join('');
  const deckClickable = v.must === 'draw' && v.deck_count > 0;
  const discardClickable = (v.must === 'draw' && v.discard_top !== null) || v.must === 'place';
  const topChanged = previous && JSON.stringify(previous.discard_top) !== JSON.stringify(v.discard_top) ? 'changed' : '';
  const held = v.drawn_card
    ? `<div class="held"><span>You hold</span>${cardHtml({ ...v.drawn_card, face_up: true }, 'data-testid="drawn"', 'lift')}</div>`
    : v.drawn_from
      ? `<div class="held other"><span>${esc(v.players.find((p) => p.id === v.current_player_id)?.name ?? '')} holds a card</span>${v.drawn_from === 'deck' ? cardHtml({ face_up: false, deck: 0 }) : ''}</div>`
      : '';
  const down = mine.cards.filter((c) => !c.face_up).length;
  const buttons = [
    v.must === 'place' ? '<button data-action="discard" data-testid="discard-btn">Discard it</button>' : '',
    v.must === 'flip_or_skip' ? '<button data-action="skip" data-testid="skip">Skip flip</button>' : '',
    v.must === 'draw' && v.options.knock_early && down >= 1 && down <= 2 ? '<button data-action="knock" data-testid="knock">Knock (flip all, go out)</button>' : '',
  ].join('');
  const rules = RULES.filter(([key]) => v.options[key]).map(([, label]) => `<span class="chip">${esc(label)}</span>`);
  if (v.options.flip_mode !== 'never') rules.unshift(`<span class="chip">Flip after discard: ${esc(v.options.flip_mode)}</span>`);
  return `
  <section class="game">
    <header class="bar">
      <h1>Room <span class="code">${esc(v.room)}</span></h1>
      <div class="round" data-testid="round">Hole ${v.round} of ${v.rounds}</div>
      <button class="ghost" data-action="leave">Leave</button>
    </header>
    <div class="chips">${rules.join('') || '<span class="chip">Standard rules</span>'}</div>
    ${errorHtml()}
    <p class="status ${v.must ? 'act' : ''}" data-testid="status" aria-live="polite">${statusText(v)}</p>
    <div class="opponents">${others}</div>
    <div class="table">
      <div class="pile">
        ${cardHtml({ face_up: false, deck: 0 }, `data-testid="deck" ${deckClickable ? 'data-action="draw-deck" role="button" tabindex="0"' : ''}`, deckClickable ? 'clickable' : '')}
        <span class="count">${v.deck_count} left</span>
      </div>
      <div class="pile">
        ${v.discard_top ? cardHtml({ ...v.discard_top, face_up: true }, `data-testid="discard" ${discardClickable ? `data-action="${v.must === 'place' ? 'discard' : 'draw-discard'}" role="button" tabindex="0"` : ''}`, `${discardClickable ? 'clickable' : ''} ${topChanged}`) : cardHtml(null, 'data-testid="discard"')}
        <span class="count">discard</span>
      </div>
      ${held}
    </div>
    <div class="me ${mine.id === v.current_player_id ? 'turn' : ''}">
      ${gridHtml(v, mine, myIndex, true)}
      <div class="actions">${buttons}</div>
    </div>
    ${scoreboardHtml(v)}
  </section>`;
}

function scoreboardHtml(v: View): string {
  const rows = [...v.players]
    .sort((a, b) => (v.phase === 'game_over' ? a.total_score - b.total_score : 0))
    .map(
      (p, i) => `<tr class="${v.winner_ids.includes(p.id) ? 'winner' : ''} ${p.id === v.you ? 'you' : ''}" data-testid="standing">
        ${v.phase === 'game_over' ? `<td>${i + 1}</td>` : ''}<td>${esc(p.name)}${v.winner_ids.includes(p.id) ? ' 🏆' : ''}</td>
        <td>${p.round_score ?? '–'}</td><td><strong>${p.total_score}</strong></td><td>${p.rounds_won}</td></tr>`,
    )
    .join('');
  const head = `<tr>${v.phase === 'game_over' ? '<th>#</th>' : ''}<th>Player</th><th>This hole</th><th>Total</th><th>Holes won</th></tr>`;
  let footer = '';
  if (v.phase === 'round_over') {
    footer = isHost()
      ? '<button class="primary" data-action="next-round" data-testid="next-round">Next hole</button> <span class="hint">(or wait: it starts by itself)</span>'
      : '<p class="hint">The next hole starts shortly…</p>';
  }
  if (v.phase === 'game_over') footer = '<button class="primary" data-action="new-game" data-testid="new-game">Back to the start</button>';
  const title = v.phase === 'game_over' ? 'Final standings' : v.phase === 'round_over' ? `Scores after hole ${v.round}` : 'Scores';
  return `<div class="scores ${v.phase === 'round_over' || v.phase === 'game_over' ? 'highlight' : ''}" data-testid="scores"><h2>${title}</h2><table>${head}${rows}</table>${footer}</div>`;
}

// ---------- input ----------

function readOptions(root: ParentNode): Record<string, any> {
  const options: Record<string, any> = {};
  root.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-option]').forEach((el) => {
    const key = el.dataset.option!;
    if (el instanceof HTMLInputElement && el.type === 'checkbox') options[key] = el.checked;
    else if (key === 'flip_mode') options[key] = el.value;
    else if (key === 'decks') options[key] = el.value === '' ? null : Number(el.value);
    else options[key] = Number(el.value);
  });
  return options;
}

function playerName(): string | null {
  const input = document.getElementById('name') as HTMLInputElement | null;
  const name = input?.value.trim() ?? '';
  if (!name) {
    error = 'Enter your name first';
    render();
    return null;
  }
  localStorage.setItem('golf:name', name);
  return name;
}

app.addEventListener('change', (event) => {
  const target = event.target as HTMLElement;
  if (!target.dataset.option) return;
  if (view && view.phase === 'lobby' && isHost()) connection.send({ type: 'set_options', options: readOptions(app) });
  else {
    draftOptions = readOptions(app);
    localStorage.setItem('golf:options', JSON.stringify(draftOptions));
  }
});

function act(target: HTMLElement): void {
  const action = target.dataset.action;
  if (!action) return;
  error = null;
  const pos = Number(target.dataset.pos);
  switch (action) {
    case 'create': {
      const name = playerName();
      if (name) connection.send({ type: 'create_room', name, options: readOptions(app) });
      return;
    }
    case 'join': {
      const name = playerName();
      const code = (document.getElementById('code') as HTMLInputElement).value.trim().toUpperCase();
      if (name) connection.send({ type: 'join_room', room: code, name });
      return;
    }
    case 'add-cpu': {
      const profile = (document.getElementById('cpu') as HTMLSelectElement).value;
      connection.send(profile ? { type: 'add_cpu', profile } : { type: 'add_cpu' });
      return;
    }
    case 'remove':
      connection.send({ type: 'remove_player', player_id: target.dataset.player });
      return;
    case 'start':
      connection.send({ type: 'start_game' });
      return;
    case 'copy':
      void navigator.clipboard?.writeText(target.dataset.link ?? '');
      target.textContent = 'Copied';
      return;
    case 'leave':
    case 'new-game':
      if (action === 'leave') connection.send({ type: 'leave' });
      storeToken(null);
      view = null;
      previous = null;
      history.replaceState(null, '', location.pathname);
      params.delete('room');
      render();
      return;
    case 'draw-deck':
      connection.send({ type: 'draw', source: 'deck' });
      return;
    case 'draw-discard':
      connection.send({ type: 'draw', source: 'discard' });
      return;
    case 'discard':
      connection.send({ type: 'discard' });
      return;
    case 'skip':
      connection.send({ type: 'skip_flip' });
      return;
    case 'knock':
      connection.send({ type: 'knock_early' });
      return;
    case 'next-round':
      connection.send({ type: 'next_round' });
      return;
    case 'swap':
      connection.send({ type: 'swap', position: pos });
      return;
    case 'flip-action':
      connection.send({ type: 'flip_action', position: pos });
      return;
    case 'flip':
      if (view?.must === 'flip_initial') {
        selected = selected.includes(pos) ? selected.filter((p) => p !== pos) : [...selected, pos];
        if (selected.length === view.options.initial_flips) {
          connection.send({ type: 'flip_initial', positions: selected });
        }
        render();
      } else connection.send({ type: 'flip', position: pos });
      return;
  }
}

app.addEventListener('click', (event) => {
  const target = (event.target as HTMLElement).closest<HTMLElement>('[data-action]');
  if (target) act(target);
});
app.addEventListener('keydown', (event) => {
  if (event.key !== 'Enter' && event.key !== ' ') return;
  const target = (event.target as HTMLElement).closest<HTMLElement>('[data-action]');
  if (target && target.getAttribute('role') === 'button') {
    event.preventDefault();
    act(target);
  }
});

render();
connection.start();
