/**
 * Partitions without product hooks: an init script, added to every browser context the ensemble
 * fixture creates, wraps the browser's own message APIs (RTCDataChannel and WebSocket `send`,
 * BroadcastChannel `postMessage`, and the delivery of their `message` events) behind one gate,
 * `window.__meshkeeperNemesis`. While the gate is shut the tab sends nothing and hears nothing from
 * other peers or the relay — its main thread, timers and workers run on, so this is a network
 * partition of that tab from everyone (not a freeze). Opening the gate heals it: nothing queued
 * meanwhile is delivered late; the channels simply carry traffic again (or reconnect, if a side gave
 * up on them while cut off).
 *
 * Limits: a tab is cut from everyone at once (a one-vs-rest partition; which channel leads to which
 * peer is not visible from outside the app). Node edge processes cannot be partitioned this way
 * (freeze them with SIGSTOP instead). In-tab messages (workers, MessagePorts) are not gated.
 */

/** What the page exposes; counts are of messages dropped while shut. */
export interface IsolationGate {
  isolated: boolean;
  dropped: { sent: number; received: number };
}

declare global {
  interface Window {
    __meshkeeperNemesis?: IsolationGate;
  }
}

/** The init script's body (serialized into the page by Playwright, so it must be self-contained). */
export function installIsolationGate(): void {
  if (window.__meshkeeperNemesis !== undefined) return;
  const gate: IsolationGate = { isolated: false, dropped: { sent: 0, received: 0 } };
  Object.defineProperty(window, '__meshkeeperNemesis', { value: gate, enumerable: false });
  type Listener = (this: unknown, event: Event) => unknown;
  const wrappedListeners = new WeakMap<Listener, Listener>();
  const guard = (listener: Listener): Listener => {
    let wrapped = wrappedListeners.get(listener);
    if (wrapped === undefined) {
      wrapped = function (this: unknown, event: Event): unknown {
        if (gate.isolated) {
          gate.dropped.received += 1;
          return undefined;
        }
        return listener.call(this, event);
      };
      wrappedListeners.set(listener, wrapped);
    }
    return wrapped;
  };
  const constructors: { ctor: { prototype: object } | undefined; send: string }[] = [
    { ctor: typeof RTCDataChannel === 'function' ? RTCDataChannel : undefined, send: 'send' },
    { ctor: typeof WebSocket === 'function' ? WebSocket : undefined, send: 'send' },
    { ctor: typeof BroadcastChannel === 'function' ? BroadcastChannel : undefined, send: 'postMessage' },
  ];
  for (const { ctor, send } of constructors) {
    if (ctor === undefined) continue;
    const proto = ctor.prototype as Record<string, unknown> & EventTarget;
    const originalSend = proto[send] as (...args: unknown[]) => unknown;
    Object.defineProperty(proto, send, {
      configurable: true,
      writable: true,
      value: function (this: unknown, ...args: unknown[]): unknown {
        if (gate.isolated) {
          gate.dropped.sent += 1;
          return undefined;
        }
        return originalSend.apply(this, args);
      },
    });
    const onmessage = Object.getOwnPropertyDescriptor(proto, 'onmessage');
    if (onmessage?.set !== undefined && onmessage.get !== undefined) {
      const setOriginal = onmessage.set;
      const handlers = new WeakMap<object, unknown>();
      Object.defineProperty(proto, 'onmessage', {
        configurable: true,
        enumerable: onmessage.enumerable ?? true,
        get(this: object): unknown {
          return handlers.has(this) ? handlers.get(this) : null;
        },
        set(this: object, handler: unknown): void {
          handlers.set(this, handler);
          setOriginal.call(this, typeof handler === 'function' ? guard(handler as Listener) : handler);
        },
      });
    }
    const addOriginal = EventTarget.prototype.addEventListener;
    const removeOriginal = EventTarget.prototype.removeEventListener;
    Object.defineProperty(proto, 'addEventListener', {
      configurable: true,
      writable: true,
      value: function (this: EventTarget, type: string, listener: unknown, options?: unknown): void {
        const chosen = type === 'message' && typeof listener === 'function' ? guard(listener as Listener) : listener;
        addOriginal.call(this, type, chosen as EventListener, options as AddEventListenerOptions);
      },
    });
    Object.defineProperty(proto, 'removeEventListener', {
      configurable: true,
      writable: true,
      value: function (this: EventTarget, type: string, listener: unknown, options?: unknown): void {
        const chosen = type === 'message' && typeof listener === 'function' ? (wrappedListeners.get(listener as Listener) ?? listener) : listener;
        removeOriginal.call(this, type, chosen as EventListener, options as EventListenerOptions);
      },
    });
  }
}
