// The OCI runtimes a daemon offers by name (Docker's `runtimes` / `default-runtime`). Each has
// its own state root under the exec root, so two runtimes never see each other's containers.
import { join } from 'node:path';
import { Runc } from '../../adapters/runc/index.ts';
import { invalidParameter } from '../../core/errors.ts';

export class Runtimes {
  readonly defaultName: string;
  readonly #byName = new Map<string, Runc>();

  /** `paths` maps names to programs; runc keeps `<execRoot>/runc`, others `<execRoot>/runtimes/<name>`. */
  constructor(paths: Record<string, string>, defaultName: string, execRoot: string) {
    for (const [name, path] of Object.entries(paths)) {
      const root = name === 'runc' ? join(execRoot, 'runc') : join(execRoot, 'runtimes', name);
      this.#byName.set(name, new Runc({ binary: path, root }));
    }
    if (!this.#byName.has(defaultName)) throw new Error(`default runtime ${defaultName} is not a configured runtime (${[...this.#byName.keys()].join(', ')})`);
    this.defaultName = defaultName;
  }

  /** The runtime called `name`; the default for an empty name. */
  get(name: string | undefined): Runc {
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
