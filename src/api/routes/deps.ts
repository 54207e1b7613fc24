// What the route modules need from the engine; wired by daemon/.
import type { ContainerService } from '../../engine/containers/service.ts';
import type { ExecService } from '../../engine/containers/exec.ts';
import type { EventBus } from '../../engine/events/index.ts';
import type { ImageStore } from '../../stores/index.ts';
import type { NetworkService } from '../../engine/networks/index.ts';
import type { VolumeService } from '../../engine/volumes/index.ts';
import type { Distribution } from '../../distribution/index.ts';
import type { Builder } from '../../engine/build/builder.ts';

export interface Deps {
  containers: ContainerService;
  execs: ExecService;
  images: ImageStore;
  networks: NetworkService;
  volumes: VolumeService;
  distribution: Distribution;
  builder: Builder;
  events: EventBus;
  daemonId: string;
  dataRoot: string;
  runtimes: Array<{ name: string; path: string }>;
  defaultRuntime: string;
  runtimeVersion: string;
  /** runc's `commit:` line (Debian: the package version), Docker's RuncCommit. */
  runtimeCommit: string;
  conmonVersion: string;
  initPath: string | undefined;
  /** The init binary's version (`run --init`), Docker's docker-init component. */
  initVersion?: { version: string; commit: string };
  cgroupVersion: 1 | 2;
  debug: boolean;
  warnings(): string[];
  bootstrapBusybox(ref: string): Promise<string>;
}
