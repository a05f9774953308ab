import { HOUSE_RULES } from '../rules.js';
import { esc } from '../escape.js';

/** The game options: editable on the start screen and by the host in the lobby, read-only for others. */
export function optionsFormHtml(options: Record<string, any>, editable: boolean, key: string, open = false): string {
  const dis = editable ? '' : 'disabled';
  const rules = HOUSE_RULES.map((rule) => {
    const off = rule.needsJokers && !options.use_jokers;
    const id = `${key}-rule-${rule.key}`;
    return `<label class="rule ${off ? 'off' : ''}" for="${id}">
      <input type="checkbox" id="${id}" data-option="${rule.key}" ${options[rule.key] && !off ? 'checked' : ''} ${dis || (off ? 'disabled' : '')} />
      <span><strong>${esc(rule.label)}</strong> <small>${esc(rule.explain)}${off ? ' (needs Jokers)' : ''}</small></span>
    </label>`;
  }).join('');
  const select = (name: string, label: string, values: Array<[string, string]>, current: string) =>
    `<label for="${key}-${name}">${label}<select id="${key}-${name}" data-option="${name}" ${dis}>${values
      .map(([value, text]) => `<option value="${value}" ${value === current ? 'selected' : ''}>${text}</option>`)
      .join('')}</select></label>`;
  return `
  <details class="options" data-key="${key}-details" ${open ? 'open' : ''}>
    <summary>House rules${editable ? '' : ' (set by the host)'}</summary>
    <div class="option-row">
      ${select('rounds', 'Holes', Array.from({ length: 18 }, (_, i) => [String(i + 1), String(i + 1)]), String(options.rounds ?? 9))}
      ${select('initial_flips', 'Initial flips', [['0', '0'], ['1', '1'], ['2', '2']], String(options.initial_flips ?? 2))}
      ${select('flip_mode', 'Flip after discard', [['never', 'never'], ['always', 'always'], ['endgame', 'endgame']], options.flip_mode ?? 'never')}
      ${select('decks', 'Decks', [['', 'auto'], ['1', '1'], ['2', '2'], ['3', '3']], options.decks == null ? '' : String(options.decks))}
    </div>
    <div class="rules">${rules}</div>
  </details>`;
}

export function readOptions(root: ParentNode): Record<string, any> {
  const options: Record<string, any> = {};
  root.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-option]').forEach((el) => {
    const key = el.dataset.option!;
    if (el instanceof HTMLInputElement && el.type === 'checkbox') options[key] = el.checked && !el.disabled;
    else if (key === 'flip_mode') options[key] = el.value;
    else if (key === 'decks') options[key] = el.value === '' ? null : Number(el.value);
    else options[key] = Number(el.value);
  });
  // Options that need Jokers mean nothing without them.
  if (!options.use_jokers) for (const rule of HOUSE_RULES) if (rule.needsJokers) options[rule.key] = false;
  return options;
}
