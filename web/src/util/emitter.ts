// A minimal publish/subscribe hub. State objects emit named topics; views
// subscribe while mounted and drop their subscriptions when they unmount.

export type Unsubscribe = () => void;

export class Emitter<Topics extends Record<string, unknown>> {
  private readonly handlers = new Map<keyof Topics, Set<(payload: any) => void>>();

  on<K extends keyof Topics>(topic: K, fn: (payload: Topics[K]) => void): Unsubscribe {
    let set = this.handlers.get(topic);
    if (!set) {
      set = new Set();
      this.handlers.set(topic, set);
    }
    set.add(fn);
    return () => set!.delete(fn);
  }

  emit<K extends keyof Topics>(topic: K, payload: Topics[K]): void {
    const set = this.handlers.get(topic);
    if (!set) return;
    for (const fn of [...set]) fn(payload);
  }
}

/** Collects unsubscribe functions so that a view can drop them all at once. */
export class Subscriptions {
  private list: Unsubscribe[] = [];
  add(u: Unsubscribe): void {
    this.list.push(u);
  }
  dispose(): void {
    for (const u of this.list) u();
    this.list = [];
  }
}
