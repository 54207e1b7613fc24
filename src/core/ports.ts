// Ports: the interfaces the engine needs from the outside world, implemented in adapters/ and
// plugged in by the daemon (STYLE rule 1). The engine names these, never an adapter's class.

/** An OCI runtime with runc's command line (runc, crun), for the containers under its root. */
export interface OciRuntime {
  /** The program. */
  readonly binary: string;
  /** Its state directory (`--root`): each runtime keeps its own. */
  readonly root: string;
  /** Lets a created container's process run. */
  start(id: string, initPid?: number): Promise<void>;
  /** The runtime's view of a container (`runc state`); undefined when it knows none by that ID. */
  state(id: string): Promise<{ status: string; pid: number } | undefined>;
  kill(id: string, signal: string, opts?: { all?: boolean }): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Changes a live container's cgroup limits (OCI LinuxResources). */
  update(id: string, resources: object): Promise<void>;
  /** Forgets an exited container (its state); a live one is deleted by force. */
  forget(id: string): Promise<void>;
  /** Runs a process in the container; resolves with its exit code and output. */
  exec(id: string, args: string[], opts?: { signal?: AbortSignal }): Promise<{ exitCode: number; output: string }>;
}

// ---- networks ------------------------------------------------------------------------------
// The JSON a network backend takes and gives (netavark's, which Podman defined): berth owns the
// definitions and IPAM and hands the backend static addresses.

/** A bridge network as the backend sets it up. */
export interface BackendNetwork {
  name: string;
  id: string;
  driver: 'bridge';
  network_interface: string;
  subnets: Array<{ subnet: string; gateway: string }>;
  ipv6_enabled: boolean;
  internal: boolean;
  dns_enabled: boolean;
  ipam_options: { driver: 'host-local' };
  options?: Record<string, string>;
}

/** A published port range. */
export interface BackendPortMapping {
  host_ip: string;
  container_port: number;
  host_port: number;
  range: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

/** One container's interfaces on its networks, its names there and its published ports. */
export interface NetworkSetupRequest {
  container_id: string;
  container_name: string;
  networks: Record<string, { interface_name: string; static_ips: string[]; aliases: string[]; static_mac?: string }>;
  network_info: Record<string, BackendNetwork>;
  port_mappings: BackendPortMapping[] | null;
  dns_servers?: string[];
}

/** What the backend made, by network: interfaces (MAC, addresses) and DNS servers. */
export interface NetworkSetupResult {
  [network: string]: {
    dns_search_domains?: string[];
    dns_server_ips?: string[];
    interfaces: Record<string, { mac_address: string; subnets: Array<{ ipnet: string; gateway: string }> }>;
  };
}

/** Network namespaces, and bridges, veths, NAT, port forwarding and DNS in them (netavark). */
export interface NetworkBackend {
  /** Creates the named network namespace; returns its path. */
  createNetns(name: string): Promise<string>;
  /** Removes a named network namespace; a missing one is not an error. */
  deleteNetns(name: string): Promise<void>;
  setup(netnsPath: string, req: NetworkSetupRequest): Promise<NetworkSetupResult>;
  /** Undoes setup, leaving no rule or chain of this container behind. */
  teardown(netnsPath: string, req: NetworkSetupRequest): Promise<void>;
  /**
   * Lets interfaces added to the namespace from now on have IPv6 (a container started with IPv6
   * turned off that joins an IPv6 network); those it has keep their setting.
   */
  allowIpv6(netnsPath: string): Promise<void>;
  /**
   * Keeps connections to [::1] on these host ports away from the backend's port forwarding (a
   * packet from ::1 cannot leave the host: forwarded, it is dropped), so a relay listening on
   * [::1] takes them, as Docker's userland proxy does. Per container; idempotent.
   */
  exemptLoopback6?(id: string, ports: ReadonlyArray<{ port: number; protocol: 'tcp' | 'udp' }>): Promise<void>;
  /** Undoes exemptLoopback6 for a container. */
  unexemptLoopback6?(id: string): Promise<void>;
  /** Drops every exemption of this daemon's (at its start, before running containers make theirs again). */
  resetLoopback6?(): Promise<void>;
}

// ---- container monitor ---------------------------------------------------------------------

/** What every monitor call names: the OCI runtime (program and state root) and the container. */
export interface MonitorTarget {
  runtime: string;
  runtimeRoot: string;
  containerId: string;
  name: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export interface MonitorCreateOptions extends MonitorTarget {
  bundle: string;
  exitDir: string;
  logPath: string;
  /** `none`: no log is kept (attach still sees the output). */
  logDriver?: 'k8s-file' | 'none';
  logSizeMax?: number;
  stdin: boolean;
  leaveStdinOpen: boolean;
  tty: boolean;
}

export interface MonitorExecOptions extends MonitorTarget {
  execId: string;
  execDir: string;
  processSpecPath: string;
  attach: boolean;
  stdin: boolean;
  tty: boolean;
}

/** The OCI runtime refused (bad spec, missing executable): the runtime's own words are kept. */
export class MonitorError extends Error {
  readonly runtimeMessage: string;
  constructor(message: string, runtimeMessage: string) {
    super(message);
    this.name = 'MonitorError';
    this.runtimeMessage = runtimeMessage;
  }
}

/** A monitor started ahead of the container it will create, waiting for the word to go. */
export interface PreparedMonitor {
  /** Creates the container (the bundle's config.json must be written); `exited` resolves once its exit code is recorded. */
  go(): Promise<{ pid: number; exited: Promise<void> }>;
  /** Ends the waiting monitor without creating anything. */
  abort(): void;
}

/**
 * The per-container monitor (conmon): creates a container through the OCI runtime, holds its
 * stdio, writes its log, serves attach and records the exit code, outliving the daemon.
 */
export interface ContainerMonitor {
  /**
   * Starts the monitor now and creates the container on `go()`: the monitor's own start-up
   * overlaps the mount and spec work. The bundle directory must exist.
   */
  prepare(o: MonitorCreateOptions): PreparedMonitor;
  /** Runs a process in it; with `attach`, onAttachReady runs before the process starts. */
  exec(o: MonitorExecOptions, onAttachReady?: () => Promise<void>): Promise<{ pid: number; exitCode: Promise<number> }>;
  /** The monitor's pid from its pid file, while that process lives and is the monitor. */
  livingPid(pidFile: string): Promise<number | undefined>;
}

// ---- mounts --------------------------------------------------------------------------------

/** The mounts the engine makes: overlay roots, read-only image views, tmpfs; and their removal. */
export interface Mounter {
  /** `volatile`: the upper directory is never synced (a container whose files go when it ends). */
  overlay(o: { lowerDirs: string[]; upper: string; work: string; target: string; volatile?: boolean }): Promise<void>;
  /** A read-only union of lowerDirs (top first) at target. */
  overlayReadOnly(lowerDirs: string[], target: string): Promise<void>;
  tmpfs(target: string, options: string[]): Promise<void>;
  /** Any file system by type, as the local volume driver's `type`, `device` and `o` options say. */
  mount(type: string, device: string, options: string | undefined, target: string): Promise<void>;
  isMounted(target: string): Promise<boolean>;
  /** Unmounts target (lazily when busy); not mounted is fine. */
  unmount(target: string): Promise<void>;
  /** Mount points below dir, deepest first. */
  mountsUnder(dir: string): Promise<string[]>;
  /** The mount a path is on and its propagation (from mountinfo's optional fields). */
  propagationOf(path: string): Promise<{ mountPoint: string; shared: boolean; slave: boolean }>;
}

// ---- cgroups -------------------------------------------------------------------------------

/** The host's control groups, where the engine reads or removes them itself (runc makes them). */
export interface Cgroups {
  /** Removes a container's cgroup in every hierarchy, waiting briefly for its last processes. */
  remove(cgroupsPath: string): Promise<void>;
  /** How many times the OOM killer acted in the cgroup. */
  oomKillCount(cgroupsPath: string): Promise<number>;
  /** The host's CPU count and its online CPUs and memory nodes (kernel list form). */
  hostResources(): { cpus: number; onlineCpus: string; onlineMems: string };
  /** Which limits the host's cgroups can apply (Docker discards the others with a warning). */
  features(): CgroupFeatures;
}

export interface CgroupFeatures {
  /** The cgroup version: on v2 a container's cgroup namespace is its own unless asked otherwise, as Docker's. */
  version: 1 | 2;
  blkioWeight: boolean;
  blkioWeightDevice: boolean;
  blkioReadBps: boolean;
  blkioWriteBps: boolean;
  blkioReadIops: boolean;
  blkioWriteIops: boolean;
  cpuRealtime: boolean;
  oomKillDisable: boolean;
}
