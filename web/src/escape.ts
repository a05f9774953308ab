/** Text for HTML: the screens are template strings, and every value put in one goes through this. */
export const esc = (text: unknown) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
