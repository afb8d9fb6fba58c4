/**
 * A tiny typed event emitter. The client runs in browsers as well as Node, so it depends on
 * neither Node's 'events' nor the DOM's EventTarget. A listener that throws is reported (through
 * `report`) and does not keep the others from being called.
 */

export type Listener<T> = (value: T) => void;

/** Where a throwing listener's error goes; the client reports to console.error. */
export type ErrorReporter = (error: unknown, context: string) => void;

export const reportToConsole: ErrorReporter = (error, context) => {
  console.error(`meshkeeper: ${context} threw`, error);
};

export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  constructor(private readonly report: ErrorReporter = reportToConsole) {}

  /** Adds a listener; returns a function that removes it. Adding the same function twice for one
   *  event keeps one registration. */
  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    const set = this.listeners.get(name);
    if (set === undefined) return;
    set.delete(listener as Listener<never>);
    if (set.size === 0) this.listeners.delete(name);
  }

  emit<K extends keyof Events>(name: K, value: Events[K]): void {
    const set = this.listeners.get(name);
    if (set === undefined) return;
    // A copy: a listener may add or remove listeners while we iterate.
    for (const listener of [...set] as Listener<Events[K]>[]) {
      try {
        listener(value);
      } catch (error) {
        this.report(error, `a '${String(name)}' listener`);
      }
    }
  }

  listenerCount(name: keyof Events): number {
    return this.listeners.get(name)?.size ?? 0;
  }

  clear(): void {
    this.listeners.clear();
  }
}
