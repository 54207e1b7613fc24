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
