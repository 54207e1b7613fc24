// Docker Engine API shapes berth stores and serves (the subset it implements), plus OCI image types.
// Field names follow the Engine API exactly so records can be served as they are.

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
}

/** Container configuration (Engine API `ContainerConfig`). */
export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, object>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Healthcheck?: HealthConfig;
  Image: string;
  Volumes?: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  NetworkDisabled?: boolean;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount?: number;
}

export interface LogConfig {
  Type: string;
  Config: Record<string, string>;
}

export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/** Host configuration (Engine API `HostConfig`), the subset berth acts on. */
export interface HostConfig {
  Binds?: string[] | null;
  /** `container[:ro|:rw]`: mount every volume and bind of those containers. */
  VolumesFrom?: string[] | null;
  /** Legacy links, kept as Docker does: `/<target>:/<this container>/<alias>`. */
  Links?: string[] | null;
  NetworkMode: string;
  PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;
  PublishAllPorts?: boolean;
  RestartPolicy: RestartPolicy;
  AutoRemove: boolean;
  LogConfig: LogConfig;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Dns?: string[];
  DnsOptions?: string[];
  DnsSearch?: string[];
  ExtraHosts?: string[] | null;
  Privileged: boolean;
  ReadonlyRootfs: boolean;
  SecurityOpt?: string[] | null;
  Tmpfs?: Record<string, string>;
  ShmSize?: number;
  Init?: boolean | null;
  Memory: number;
  MemorySwap: number;
  MemoryReservation?: number;
  NanoCpus: number;
  CpuShares: number;
  CpuPeriod: number;
  CpuQuota: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  Ulimits?: Ulimit[] | null;
  /** Block I/O weight (10–1000; 0 = unset) and per-device weights and throttles, as Docker's API names them. */
  BlkioWeight?: number;
  BlkioWeightDevice?: Array<{ Path: string; Weight: number }> | null;
  BlkioDeviceReadBps?: Array<{ Path: string; Rate: number }> | null;
  BlkioDeviceWriteBps?: Array<{ Path: string; Rate: number }> | null;
  BlkioDeviceReadIOps?: Array<{ Path: string; Rate: number }> | null;
  BlkioDeviceWriteIOps?: Array<{ Path: string; Rate: number }> | null;
  /** Kept for inspect; deprecated by Docker and not applied (runc ignores it). */
  KernelMemory?: number;
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  /** `--gpus`: berth has no device drivers, so a start with any is refused, as Docker without one. */
  DeviceRequests?: Array<{ Driver: string; Count: number; DeviceIDs: string[] | null; Capabilities: string[][] | null; Options: Record<string, string> | null }> | null;
  OomKillDisable?: boolean | null;
  /** -1000..1000, the container's processes' oom_score_adj. */
  OomScoreAdj?: number;
  /** 0..100 (cgroup v1 memory.swappiness); -1 or absent: the host's. */
  MemorySwappiness?: number | null;
  /** `private` (its own cgroup namespace) or `host`. */
  CgroupnsMode?: string;
  /** Extra device cgroup rules: `c|b|a MAJOR|*:MINOR|* [rwm]`. */
  DeviceCgroupRules?: string[] | null;
  Devices?: DeviceMapping[] | null;
  MaskedPaths?: string[];
  ReadonlyPaths?: string[];
  GroupAdd?: string[] | null;
  IpcMode?: string;
  PidMode?: string;
  UTSMode?: string;
  CgroupParent?: string;
  Sysctls?: Record<string, string>;
  ConsoleSize?: [number, number];
  /** The OCI runtime's name (`runc`, `crun`, …); filled with the default at create. */
  Runtime?: string;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy' | 'none';
  FailingStreak: number;
  Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }>;
}

/** Container state (Engine API `ContainerState`). */
export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: HealthState;
}

/** OCI image configuration's runtime part (also Docker's `config` object in image configs). */
export interface ImageRuntimeConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Healthcheck?: HealthConfig;
  OnBuild?: string[] | null;
  Shell?: string[];
}

export interface ImageHistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** OCI image config / Docker image JSON (`application/vnd.oci.image.config.v1+json`). */
export interface ImageConfigFile {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  /** Docker's: the commit message (`commit -m`), shown by inspect as Comment. */
  comment?: string;
  config?: ImageRuntimeConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: ImageHistoryEntry[];
  /** Docker-only extras kept as they come. */
  [extra: string]: unknown;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}
