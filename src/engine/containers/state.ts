// The container lifecycle as an explicit state machine, and Docker's human status strings.
import { conflict } from '../../core/errors.ts';
import type { ContainerState, ContainerStatus } from '../../core/types.ts';
import { humanDuration } from '../../core/human.ts';

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



export function humanStatus(s: ContainerState, now = Date.now()): string {
  switch (s.Status) {
    case 'running': {
      const h = s.Health?.Status;
      const suffix = h === 'starting' ? ' (health: starting)' : h === 'healthy' || h === 'unhealthy' ? ` (${h})` : '';
      return `Up ${humanDuration((now - Date.parse(s.StartedAt)) / 1000)}${suffix}`;
    }
    case 'paused':
      return `Up ${humanDuration((now - Date.parse(s.StartedAt)) / 1000)} (Paused)`;
    case 'restarting':
      return `Restarting (${s.ExitCode}) ${humanDuration((now - Date.parse(s.FinishedAt)) / 1000)} ago`;
    case 'exited':
      return `Exited (${s.ExitCode}) ${humanDuration((now - Date.parse(s.FinishedAt)) / 1000)} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    default:
      return 'Created';
  }
}
