// A tiny element builder. Every view builds its DOM with `h`, which sets text
// through text nodes only: user content never goes through innerHTML.

export type Child = Node | string | number | null | undefined | false;
type Listener = (event: any) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Listener>;

/**
 * Creates an element. Attribute keys starting with "on" followed by an upper-case
 * letter (onClick, onKeydown) add event listeners; `value` and `checked` are set
 * as properties; true adds an empty attribute; false, null and undefined skip it.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (/^on[A-Z]/.test(key) && typeof value === 'function') {
        el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
      } else if (key === 'value' || key === 'checked') {
        (el as any)[key] = value;
      } else {
        el.setAttribute(key, value === true ? '' : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

/** Appends children (nested arrays flattened; null/false skipped). */
export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const c of children) {
    if (Array.isArray(c)) {
      append(parent, c);
    } else if (c !== null && c !== undefined && c !== false) {
      parent.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
  }
}

/** Replaces all children of `parent`. */
export function replaceChildren(parent: Element, ...children: (Child | Child[])[]): void {
  parent.textContent = '';
  append(parent, children);
}

/** An inline SVG icon from a path list (24×24 viewBox), hidden from screen readers. */
export function icon(paths: string[], className = 'icon'): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', className);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const d of paths) {
    const p = document.createElementNS(ns, 'path');
    p.setAttribute('d', d);
    svg.appendChild(p);
  }
  return svg;
}
