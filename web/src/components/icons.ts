/**
 * Inline SVG icons (no emoji: they render as empty boxes without an emoji font). Decorative:
 * hidden from screen readers, the text beside them says the same.
 */
const svg = (body: string, cls = '') =>
  `<svg class="icon ${cls}" viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${body}</svg>`;

export const icons = {
  flag: () => svg('<path d="M6 22V3"/><path d="M6 4l12 4-12 4z" fill="currentColor"/><path d="M2 22h9"/>', 'flag'),
  trophy: () => svg('<path d="M8 21h8M12 17v4M7 4h10v5a5 5 0 0 1-10 0z"/><path d="M7 6H4a3 3 0 0 0 3 4M17 6h3a3 3 0 0 1-3 4"/>', 'trophy'),
  copy: () => svg('<rect x="9" y="9" width="12" height="12" rx="2"/><path d="M5 15V5a2 2 0 0 1 2-2h8"/>'),
  leave: () => svg('<path d="M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10"/>'),
  cpu: () => svg('<rect x="6" y="6" width="12" height="12" rx="2"/><path d="M9 2v4M15 2v4M9 18v4M15 18v4M2 9h4M2 15h4M18 9h4M18 15h4"/>'),
  star: () => svg('<path d="M12 3l2.7 5.6 6.1.9-4.4 4.3 1 6.1L12 17l-5.4 2.9 1-6.1L3.2 9.5l6.1-.9z" fill="currentColor"/>'),
  joker: () => svg('<path d="M4 8l4 4 4-7 4 7 4-4-2 11H6z" fill="currentColor"/>'),
  help: () => svg('<circle cx="12" cy="12" r="9"/><path d="M9.5 9a2.5 2.5 0 1 1 3.5 2.3c-.7.3-1 .9-1 1.7M12 17h.01"/>'),
  link: () => svg('<path d="M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1"/>'),
  pair: () => svg('<path d="M5 12l4 4 10-10"/>'),
  wifiOff: () => svg('<path d="M2 2l20 20M8.5 16.5a5 5 0 0 1 7 0M5 12.9a10 10 0 0 1 5-2.8M19 12.9a10 10 0 0 0-2.4-1.7M2 8.8a15 15 0 0 1 4.2-2.7M22 8.8A15 15 0 0 0 11 5M12 20h.01"/>'),
};
