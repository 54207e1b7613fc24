// The container lifecycle as an explicit state machine, and Docker's human status strings.
import { conflict } from '../../core/errors.ts';
import type { ContainerState, ContainerStatus } from '../../core/types.ts';

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function initialState(): ContainerState {
  return {
    Status: 'created',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 0,
    Error: '',
    StartedAt: ZERO_TIME,
    FinishedAt: ZERO_TIME,
  };
}

export function setStatus(s: ContainerState, status: ContainerStatus): void {
  s.Status = status;
  s.Running = status === 'running' || status === 'paused' || status === 'restarting';
  s.Paused = status === 'paused';
  s.Restarting = status === 'restarting';
  s.Dead = status === 'dead';
}

export function isActive(status: ContainerStatus): boolean {
  return status === 'running' || status === 'paused';
}

export function checkCanPause(name: string, status: ContainerStatus): void {
  if (status === 'paused') throw conflict(`Container ${name} is already paused`);
  if (status !== 'running') throw conflict(`Container ${name} is not running`);
}

export function checkCanUnpause(name: string, status: ContainerStatus): void {
  if (status !== 'paused') throw conflict(`Container ${name} is not paused`);
}

export function checkCanExec(name: string, status: ContainerStatus): void {
  if (status === 'paused') throw conflict(`Container ${name} is paused, unpause the container before exec`);
  if (status !== 'running') throw conflict(`Container ${name} is not running`);
}

/** go-units HumanDuration, as the docker CLI and API print it. */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.round(ms / 60000);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(ms / 3600000);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.round(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.round(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.round(h / 24 / 30)} months`;
  return `${Math.round(h / 24 / 365)} years`;
}

export function humanStatus(s: ContainerState, now = Date.now()): string {
  switch (s.Status) {
    case 'running': {
      const h = s.Health?.Status;
      const suffix = h === 'starting' ? ' (health: starting)' : h === 'healthy' || h === 'unhealthy' ? ` (${h})` : '';
      return `Up ${humanDuration(now - Date.parse(s.StartedAt))}${suffix}`;
    }
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(s.StartedAt))} (Paused)`;
    case 'restarting':
      return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
    case 'exited':
      return `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    default:
      return 'Created';
  }
}
