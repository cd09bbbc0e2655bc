/** A few lines instead of a framework: elements built with the DOM API (never innerHTML, so data cannot inject markup). */

export type Child = Node | string | number | null | undefined | false | Child[];
type Attribute = string | number | boolean | null | undefined | ((event: Event) => void);

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, Attribute> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name === 'className' ? 'class' : name, String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else if (child !== null && child !== undefined && child !== false) parent.appendChild(document.createTextNode(String(child)));
  }
}

let fieldIds = 0;

/** A labelled form field: the label's `for` always points at the control. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLElement {
  control.id ||= `field-${++fieldIds}`;
  const hintElement = hint ? h('small', { id: `${control.id}-hint`, className: 'hint' }, hint) : null;
  if (hintElement) control.setAttribute('aria-describedby', hintElement.id);
  return h('div', { className: 'field' }, h('label', { for: control.id }, label), control, hintElement);
}

export function options(values: readonly string[], selected?: string, empty?: string): HTMLOptionElement[] {
  return [
    ...(empty !== undefined ? [h('option', { value: '', selected: !selected }, empty)] : []),
    ...values.map((value) => h('option', { value, selected: value === selected }, value)),
  ];
}

export function table(headers: string[], rows: Child[][], caption?: string): HTMLElement {
  return h(
    'div',
    { className: 'table-wrap' },
    h(
      'table',
      {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, headers.map((header) => h('th', { scope: 'col' }, header)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell) => h('td', {}, cell))))),
    ),
  );
}

/** A term and its description in a `dl.facts`. */
export function fact(term: string, description: Child): HTMLElement[] {
  return [h('dt', {}, term), h('dd', {}, description)];
}
