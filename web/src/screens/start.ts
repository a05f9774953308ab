import { icons } from '../components/icons.js';
import { optionsFormHtml } from '../components/options-form.js';
import { esc } from '../escape.js';
import type { ErrorField } from '../store.js';

export interface StartProps {
  name: string;
  code: string;
  options: Record<string, any>;
  error: { message: string; field: ErrorField } | null;
  /** A stored seat is being resumed: joining waits. */
  resuming: boolean;
}

function fieldError(field: ErrorField, props: StartProps): string {
  return props.error && props.error.field === field
    ? `<p class="field-error" id="${field}-error" data-testid="error">${esc(props.error.message)}</p>`
    : '';
}

function described(field: ErrorField, props: StartProps): string {
  return props.error && props.error.field === field ? `aria-invalid="true" aria-describedby="${field}-error"` : '';
}

/** The start screen: your name, join a room by code, or create one with its options. */
export function startHtml(props: StartProps): string {
  const general = props.error && props.error.field === null ? `<p class="error" data-testid="error">${esc(props.error.message)}</p>` : '';
  return `
  <section class="home" data-key="screen-start">
    <h1 tabindex="-1">${icons.flag()} Golf <small>six-card</small></h1>
    <p class="tagline">Lowest score after all holes wins. Pair columns, dodge the Queens.</p>
    ${general}
    <div class="field">
      <label for="name">Your name</label>
      <input id="name" autocomplete="nickname" value="${esc(props.name)}" placeholder="Name" ${described('name', props)} />
      ${fieldError('name', props)}
    </div>
    <div class="panels">
      <form class="panel" data-form="join" aria-labelledby="join-title" novalidate>
        <h2 id="join-title">Join a room</h2>
        <div class="field">
          <label for="code">Room code</label>
          <input id="code" value="${esc(props.code)}" placeholder="ABCD" autocapitalize="characters" autocomplete="off" ${described('code', props)} />
          ${fieldError('code', props)}
        </div>
        <button type="submit" data-key="join" data-action="join" data-testid="join" ${props.resuming ? 'disabled' : ''}>Join</button>
        <button type="button" class="ghost" data-key="watch" data-action="watch" data-testid="watch" ${props.resuming ? 'disabled' : ''}>Watch without playing</button>
      </form>
      <form class="panel" data-form="create" aria-labelledby="create-title" novalidate>
        <h2 id="create-title">New room</h2>
        ${optionsFormHtml(props.options, true, 'new')}
        <button type="submit" class="primary" data-key="create" data-action="create" data-testid="create">Create room</button>
      </form>
    </div>
  </section>`;
}
