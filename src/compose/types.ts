// The compose model: what the loader makes of compose files (merged, interpolated, normalized to
// the long forms) and what `berth compose` acts on. Pure data; no I/O here.

export interface PortMapping {
  target: number;
  /** Host port or range start; undefined = a random port. */
  published?: number;
  /** Last port of a published range (`8000-8010:80-90`), when one. */
  publishedEnd?: number;
  /** Last target port of a range, when one. */
  targetEnd?: number;
  hostIp?: string;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export interface ServiceVolume {
  type: 'volume' | 'bind' | 'tmpfs';
  /** Volume name as written in the file (before the project prefix), or an absolute host path. */
  source?: string;
  target: string;
  readOnly: boolean;
  /** volume: nocopy. */
  noCopy?: boolean;
  /** bind: create_host_path (default true for the short syntax, as compose does). */
  createHostPath?: boolean;
  /** tmpfs: size in bytes. */
  tmpfsSize?: number;
}

export interface ServiceNetwork {
  aliases: string[];
  ipv4Address?: string;
  ipv6Address?: string;
}

export interface Healthcheck {
  test: string[];
  /** Durations in nanoseconds. */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
  disable?: boolean;
}

export interface DependsOn {
  condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  restart: boolean;
  required: boolean;
}

export interface BuildSpec {
  /** Absolute context directory. */
  context: string;
  /** Dockerfile path relative to the context. */
  dockerfile: string;
  args: Record<string, string>;
  target?: string;
  labels: Record<string, string>;
}

export interface Service {
  name: string;
  image?: string;
  build?: BuildSpec;
  command?: string[];
  entrypoint?: string[];
  /** KEY → value (null = take it from the environment of `berth compose`, as compose does). */
  environment: Record<string, string | null>;
  ports: PortMapping[];
  expose: string[];
  volumes: ServiceVolume[];
  /** Network name (as in the file) → settings; `default` when the service names none. */
  networks: Record<string, ServiceNetwork>;
  networkMode?: string;
  dependsOn: Record<string, DependsOn>;
  healthcheck?: Healthcheck;
  restart?: string;
  labels: Record<string, string>;
  user?: string;
  workingDir?: string;
  hostname?: string;
  init?: boolean;
  readOnly?: boolean;
  privileged?: boolean;
  capAdd: string[];
  capDrop: string[];
  ulimits: Record<string, { soft: number; hard: number }>;
  /** deploy.resources.limits / mem_limit / cpus: bytes and CPUs. */
  memLimit?: number;
  cpus?: number;
  pidsLimit?: number;
  /** deploy.replicas / scale. */
  replicas: number;
  stopSignal?: string;
  /** Nanoseconds. */
  stopGracePeriod?: number;
  tty?: boolean;
  stdinOpen?: boolean;
  extraHosts: string[];
  dns: string[];
  tmpfs: string[];
  logging?: { driver?: string; options: Record<string, string> };
  profiles: string[];
  containerName?: string;
  securityOpt?: string[];
  sysctls?: Record<string, string>;
  /** Bytes of /dev/shm. */
  shmSize?: number;
  /** `service[:ro|:rw]` or `container:name[:ro|:rw]`. */
  volumesFrom?: string[];
  /** Secrets and configs: files bind-mounted read-only (secrets under /run/secrets). */
  secrets?: FileMount[];
  configs?: FileMount[];
  pullPolicy?: 'always' | 'never' | 'missing' | 'build';
  /** `platform:` (os/arch[/variant]). */
  platform?: string;
  /** `devices:` as HOST[:CONTAINER[:PERMS]]. */
  devices?: Array<{ host: string; container: string; permissions: string }>;
  /** `links:` service → the alias it is known by in this service's containers. */
  links?: Record<string, string>;
  /** deploy.resources.reservations.memory, bytes. */
  memReservation?: number;
}

export interface FileMount {
  /** The top-level secret or config name. */
  source: string;
  /** Absolute path in the container. */
  target: string;
}

/** A top-level secret or config: a file on the host, or an environment variable's value. */
export interface FileSpec {
  /** Absolute host path. */
  file?: string;
  /** Name of an environment variable holding the content. */
  environment?: string;
  /** Inline content (configs). */
  content?: string;
}

export interface NetworkSpec {
  /** The engine-side name (project-prefixed unless `name:` or external). */
  name: string;
  external: boolean;
  driver: string;
  internal: boolean;
  labels: Record<string, string>;
  /** IPv6 on the network (`enable_ipv6`): the IPv6 subnet in `ipam`, else one of the daemon's pool. */
  enableIpv6?: boolean;
  /** `ipam.config`: at most one IPv4 and one IPv6 entry. */
  ipam?: Array<{ subnet?: string; gateway?: string; ipRange?: string }>;
}

export interface VolumeSpec {
  name: string;
  external: boolean;
  driver: string;
  driverOpts: Record<string, string>;
  labels: Record<string, string>;
}

export interface Project {
  name: string;
  /** Absolute directory relative paths in the files are resolved against. */
  workingDir: string;
  /** The compose files, absolute. */
  files: string[];
  /** Services enabled by the active profiles, in a stable order. */
  services: Record<string, Service>;
  /** Services left out by profiles (kept for `down` and `config --profiles`). */
  disabled: Record<string, Service>;
  networks: Record<string, NetworkSpec>;
  volumes: Record<string, VolumeSpec>;
  secrets?: Record<string, FileSpec>;
  configs?: Record<string, FileSpec>;
}

export interface LoadOptions {
  /** `-f` files in order; empty = look for compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml. */
  files: string[];
  /** `-p`, else COMPOSE_PROJECT_NAME, else `name:` in the file, else the directory name. */
  projectName?: string;
  /** The process environment (interpolation and null environment values). */
  env: Record<string, string | undefined>;
  /** `--env-file` files, else `.env` in the project directory when it exists. */
  envFiles?: string[];
  profiles?: string[];
  /** Where to look for files and resolve relative paths (default: the current directory). */
  cwd: string;
}
