// Start order of services: dependencies first, otherwise by name.

import { invalidParameter } from '../core/errors.ts';
import type { Project, Service } from './types.ts';

/** Throws naming the first dependency cycle among `services`, e.g. `a -> b -> a`. */
export function checkCycles(services: Record<string, Service>): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(name)), name];
      throw invalidParameter(`dependency cycle detected: ${cycle.join(' -> ')}`);
    }
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of Object.keys(services[name]?.dependsOn ?? {}).sort()) {
      if (services[dep] !== undefined) visit(dep);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of Object.keys(services).sort()) visit(name);
}

/** Service names with every dependency before its dependents; ties broken by name. */
export function serviceOrder(project: Project): string[] {
  const services = project.services;
  checkCycles(services);
  const names = Object.keys(services).sort();
  const pending = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const name of names) {
    const deps = Object.keys(services[name]?.dependsOn ?? {}).filter((d) => services[d] !== undefined);
    pending.set(name, deps.length);
    for (const d of deps) dependents.set(d, [...(dependents.get(d) ?? []), name]);
  }
  const ready = names.filter((n) => pending.get(n) === 0);
  const out: string[] = [];
  while (ready.length > 0) {
    ready.sort();
    const next = ready.shift() as string;
    out.push(next);
    for (const d of dependents.get(next) ?? []) {
      const left = (pending.get(d) ?? 0) - 1;
      pending.set(d, left);
      if (left === 0) ready.push(d);
    }
  }
  return out;
}
