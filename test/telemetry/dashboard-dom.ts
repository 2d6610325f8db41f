/**
 * The smallest document and window the dashboard's view code needs, so the
 * served page script can run whole in a VM: elements for the page's ids,
 * textContent (the only way the view writes text), children, listeners,
 * sessionStorage, and the real network (the `ws` package's WebSocket, Node's
 * fetch). Not a DOM emulation: an API the page does not use is simply absent,
 * so a page that starts using one fails here.
 */
import WebSocket from 'ws';

export class FakeElement {
  private text = '';
  children: FakeElement[] = [];
  className = '';
  value = '';
  readonly dataset: Record<string, string> = {};
  private readonly listeners = new Map<string, Array<(ev: unknown) => void>>();

  constructor(readonly tagName: string, readonly id = '') {}

  get textContent(): string {
    return this.children.length > 0 ? this.children.map((c) => c.textContent).join('\t') : this.text;
  }
  set textContent(value: string) {
    this.text = String(value);
    this.children = [];
  }
  get firstChild(): FakeElement | null {
    return this.children[0] ?? null;
  }
  replaceChildren(...nodes: FakeElement[]): void {
    this.text = '';
    this.children = nodes;
  }
  append(...nodes: FakeElement[]): void {
    this.children.push(...nodes);
  }
  addEventListener(type: string, fn: (ev: unknown) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  dispatch(type: string, ev: Record<string, unknown> = {}): void {
    for (const fn of this.listeners.get(type) ?? []) fn({ type, target: this, ...ev });
  }
  /** The text of each row of a tbody, one string per row, cells joined by tabs. */
  rows(): string[] {
    return this.children.map((tr) => tr.textContent);
  }
}

export interface FakePage {
  readonly window: Record<string, unknown>;
  readonly storage: Map<string, string>;
  el(id: string): FakeElement;
  /** Resolves once `ok()` holds after one of the page's timer ticks (it renders on a 250 ms interval). */
  until(what: string, ok: () => boolean): Promise<void>;
  /** Stops the page's timers and closes its socket. */
  dispose(): void;
}

/** A document holding one element per `id="…"` in `html` (tag from the markup), and a window on `origin`. */
export function fakePage(html: string, origin: string): FakePage {
  const elements = new Map<string, FakeElement>();
  for (const m of html.matchAll(/<([a-z0-9]+)\b[^>]*\sid="([^"]+)"/g)) elements.set(m[2]!, new FakeElement(m[1]!, m[2]!));
  const storage = new Map<string, string>();
  const timers = new Set<NodeJS.Timeout>();
  const checks: Array<() => void> = [];
  const afterTick = (): void => {
    for (const check of [...checks]) check();
  };
  const sockets: WebSocket[] = [];
  class PageSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  const document = {
    getElementById: (id: string): FakeElement | null => elements.get(id) ?? null,
    createElement: (tag: string): FakeElement => new FakeElement(tag),
  };
  const window: Record<string, unknown> = {
    document,
    location: { origin },
    sessionStorage: {
      getItem: (k: string): string | null => storage.get(k) ?? null,
      setItem: (k: string, v: string): void => void storage.set(k, String(v)),
      removeItem: (k: string): void => void storage.delete(k),
    },
    WebSocket: PageSocket,
    fetch: (url: string, init?: RequestInit) => fetch(url, init),
    setTimeout: (fn: () => void, ms: number) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
        afterTick();
      }, ms);
      timers.add(t);
      return t;
    },
    clearTimeout: (t: NodeJS.Timeout) => {
      clearTimeout(t);
      timers.delete(t);
    },
    setInterval: (fn: () => void, ms: number) => {
      const t = setInterval(() => {
        fn();
        afterTick();
      }, ms);
      timers.add(t);
      return t;
    },
  };
  return {
    window,
    storage,
    el(id: string): FakeElement {
      const e = elements.get(id);
      if (e === undefined) throw new Error(`the page has no element #${id}`);
      return e;
    },
    until(what: string, ok: () => boolean): Promise<void> {
      if (ok()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the page never showed: ${what}`)), 10_000);
        const check = (): void => {
          if (!ok()) return;
          clearTimeout(timer);
          checks.splice(checks.indexOf(check), 1);
          resolve();
        };
        checks.push(check);
      });
    },
    dispose(): void {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.terminate();
    },
  };
}
