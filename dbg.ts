import { playCpuGame, randomOptions } from './src/ai/selfplay.js';
let n=0;
const o = randomOptions(797); console.log(JSON.stringify(o));
try { playCpuGame(797, 2 + (797 % 5), o, { beforeMove: (view, move) => {
  n++; if (n>19950) { const me = view.players.find(p => p.id === view.you)!; console.log(view.you, JSON.stringify(move), view.drawn_card?.rank, view.discard_top?.rank, me.cards.map(c => c.face_up ? c.rank : '?').join(' ')); }
}}); } catch(e) { console.log(String(e)); }
