// The OCI runtimes a daemon offers by name (Docker's `runtimes` / `default-runtime`). Each has
// its own state root, so two runtimes never see each other's containers.
import { invalidParameter } from '../../core/errors.ts';
import type { OciRuntime } from '../../core/ports.ts';

export class Runtimes {
  readonly defaultName: string;
  readonly #byName = new Map<string, OciRuntime>();

  constructor(runtimes: Record<string, OciRuntime>, defaultName: string) {
    for (const [name, rt] of Object.entries(runtimes)) this.#byName.set(name, rt);
    if (!this.#byName.has(defaultName)) throw new Error(`default runtime ${defaultName} is not a configured runtime (${[...this.#byName.keys()].join(', ')})`);
    this.defaultName = defaultName;
  }

  /** The runtime called `name`; the default for an empty name. */
  get(name: string | undefined): OciRuntime {
    const rt = this.#byName.get(name || this.defaultName);
    if (!rt) throw invalidParameter(`unknown or invalid runtime name: ${name}`);
    return rt;
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  list(): Array<{ name: string; path: string; root: string }> {
    return [...this.#byName].map(([name, rt]) => ({ name, path: rt.binary, root: rt.root }));
  }
}
