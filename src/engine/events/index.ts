// The event bus behind GET /events: a bounded history for `since`, live subscribers, filters.
export interface EngineEvent {
  Type: 'container' | 'image' | 'network' | 'volume' | 'daemon';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  /** Deprecated fields the docker CLI still reads for containers and images. */
  status?: string;
  id?: string;
  from?: string;
}

export type EventFilters = Record<string, string[]>;

const HISTORY = 1024;

export class EventBus {
  #history: EngineEvent[] = [];
  #subs = new Set<(e: EngineEvent) => void>();

  emit(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    const nowNs = BigInt(Date.now()) * 1_000_000n + BigInt(Number(process.hrtime.bigint() % 1_000_000n));
    const e: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    if (type === 'container' || type === 'image') {
      e.status = action;
      e.id = id;
      if (attributes.image) e.from = attributes.image;
    }
    this.#history.push(e);
    if (this.#history.length > HISTORY) this.#history.splice(0, this.#history.length - HISTORY);
    for (const s of this.#subs) s(e);
  }

  /** Past events in [since, until] (unix seconds) and, unless `until` is in the past, live ones. */
  subscribe(fn: (e: EngineEvent) => void): () => void {
    this.#subs.add(fn);
    return () => this.#subs.delete(fn);
  }

  history(): readonly EngineEvent[] {
    return this.#history;
  }
}

/** Docker's event filters: type, event/action, container, image, label, network, volume. */
export function matchEvent(e: EngineEvent, filters: EventFilters): boolean {
  for (const [key, values] of Object.entries(filters)) {
    if (values.length === 0) continue;
    const ok = values.some((v) => {
      switch (key) {
        case 'type':
          return e.Type === v;
        case 'event':
        case 'action':
          return e.Action === v || e.Action.startsWith(`${v}:`);
        case 'container':
          return e.Type === 'container' && (e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v);
        case 'image':
          return (e.Type === 'image' && (e.Actor.ID === v || e.Actor.Attributes.name === v)) || e.Actor.Attributes.image === v;
        case 'network':
          return e.Type === 'network' && (e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v);
        case 'volume':
          return e.Type === 'volume' && e.Actor.ID === v;
        case 'label': {
          const [k, val] = v.split('=', 2) as [string, string | undefined];
          const have = e.Actor.Attributes[k];
          return have !== undefined && (val === undefined || have === val);
        }
        case 'scope':
          return e.scope === v;
        default:
          return true;
      }
    });
    if (!ok) return false;
  }
  return true;
}
