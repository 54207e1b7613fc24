// What berth keeps on disk for each container, shared by the container service and its helpers.
import type { ContainerConfig, ContainerState, HostConfig } from '../../core/types.ts';
import type { NetworkSetupRequest } from '../../core/ports.ts';

export interface Logger {
  debug(msg: string, extra?: Record<string, unknown>): void;
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
}

export interface ContainerPaths {
  dataRoot: string;
  execRoot: string;
}

/** What berth keeps on disk for each container: the Engine API inspect shape plus its own part. */
export interface ContainerRecord {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  LogPath: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  berth: {
    hasBeenStarted: boolean;
    manuallyStopped: boolean;
    lastStartMs: number;
    /** Set once removal began, so a crash mid-removal finishes it at the next start. */
    removing?: boolean;
    /** The container's endpoint on a user-defined network while it runs. */
    net?: NetState;
    mounts?: MountPoint[];
    /** Requested at create: a static address, MAC address and network-scoped aliases. */
    endpoint?: { ip?: string; ip6?: string; mac?: string; aliases: string[] };
    /** Disconnected from its create-time network while stopped (docker-compose v1 reconnects it with aliases). */
    primaryDetached?: boolean;
    /** Networks joined with `network connect`, wired again at every start (eth1, eth2, …). */
    connected?: Array<{ networkId: string; ip?: string; ip6?: string; aliases: string[] }>;
    /** The live endpoints of those networks. */
    extraNets?: NetState[];
  };
}

/** A mount as inspect shows it, plus what start needs. */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  noCopy?: boolean;
  anonymous?: boolean;
  tmpfsOptions?: string[];
  createSource?: boolean;
}

export interface NetState {
  netns: string;
  networkId: string;
  networkName: string;
  ip: string;
  prefix: number;
  gateway: string;
  /** The endpoint's IPv6 address, prefix length and gateway, on a network with IPv6. */
  ip6?: string;
  prefix6?: number;
  gateway6?: string;
  mac: string;
  request: NetworkSetupRequest;
  ports: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  /**
   * The namespace is held but the network is not wired: the container left its create-time
   * network (`network disconnect`) and may still be on others.
   */
  detached?: boolean;
}

/** The container's endpoint on its create-time network, when it is wired. */
export function liveNet(rec: { berth: { net?: NetState } }): NetState | undefined {
  const n = rec.berth.net;
  return n && !n.detached ? n : undefined;
}
