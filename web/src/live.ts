/**
 * The page's one live region (index.html's #live): screen readers are told turns, draws, what
 * others did and results through it. Its text changes, the element never does, so a reader
 * keeps listening to it across every update.
 */
export function say(text: string | null): void {
  if (!text) return;
  const live = document.getElementById('live');
  if (!live) return;
  // The same words twice in a row are announced again only if the text node changes.
  live.textContent = live.textContent === text ? `${text}\u00a0` : text;
}
