import morphdom from 'morphdom';

/**
 * Updates `root` to the markup `html` in place (morphdom: a keyed DOM diff), so an update
 * never replaces the element that has focus, the text being typed, or an open <details>.
 * Elements are matched by `id` or `data-key`: give every control that must keep focus across
 * updates (cards, piles, buttons) a stable key.
 */
export function patch(root: HTMLElement, html: string): void {
  const next = root.cloneNode(false) as HTMLElement;
  next.innerHTML = html;
  morphdom(root, next, {
    childrenOnly: true,
    getNodeKey: (node) => {
      if (node.nodeType !== 1) return undefined;
      const el = node as HTMLElement;
      return el.id || el.dataset.key || undefined;
    },
    onBeforeElUpdated: (from, to) => {
      // A <details> the person opened or closed stays as they left it.
      if (from instanceof HTMLDetailsElement && to instanceof HTMLDetailsElement && from.dataset.key) to.open = from.open;
      // The field being typed into keeps what is typed (the state has it too; this guards the race).
      if (from === document.activeElement && from instanceof HTMLInputElement && to instanceof HTMLInputElement && from.type !== 'checkbox') {
        to.value = from.value;
      }
      return !from.isEqualNode(to);
    },
  });
}

