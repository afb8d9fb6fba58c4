/**
 * A small typed event list for the recipes' events ('lost', 'elected', 'revoked'). It depends on
 * neither Node's 'events' nor the DOM's EventTarget (the recipes run in both). A listener that
 * throws is reported and the others still run.
 */

export class Listeners<Events extends object> {
  readonly #sets = new Map<keyof Events, Set<(value: never) => void>>();
  readonly #owner: string;

  constructor(owner: string) {
    this.#owner = owner;
  }

  on<K extends keyof Events>(name: K, listener: (value: Events[K]) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError(`${this.#owner}: a listener must be a function`);
    let set = this.#sets.get(name);
    if (set === undefined) {
      set = new Set();
      this.#sets.set(name, set);
    }
    set.add(listener as (value: never) => void);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: (value: Events[K]) => void): void {
    const set = this.#sets.get(name);
    set?.delete(listener as (value: never) => void);
    if (set?.size === 0) this.#sets.delete(name);
  }

  emit<K extends keyof Events>(name: K, value: Events[K]): void {
    const set = this.#sets.get(name);
    if (set === undefined) return;
    for (const listener of [...set] as ((value: Events[K]) => void)[]) {
      try {
        listener(value);
      } catch (error) {
        console.error(`meshkeeper: a '${String(name)}' listener of ${this.#owner} threw`, error);
      }
    }
  }

  count(name: keyof Events): number {
    return this.#sets.get(name)?.size ?? 0;
  }
}
