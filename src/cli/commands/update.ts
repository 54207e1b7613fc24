import { CliError, forEachTarget, seg, type CommandSpec } from '../cli.ts';
import { parseCpus, parseRestartPolicy, ramInBytes } from '../run-options.ts';

export const command: CommandSpec = {
  name: 'update',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Update configuration of one or more containers',
  aliases: ['berth container update', 'berth update'],
  flags: [
    { long: 'cpu-period', type: 'int', help: 'Limit CPU CFS (Completely Fair Scheduler) period' },
    { long: 'cpu-quota', type: 'int', help: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
    { long: 'cpu-shares', short: 'c', type: 'int', help: 'CPU shares (relative weight)' },
    { long: 'cpus', type: 'string', help: 'Number of CPUs' },
    { long: 'cpuset-cpus', type: 'string', help: 'CPUs in which to allow execution (0-3, 0,1)' },
    { long: 'cpuset-mems', type: 'string', help: 'MEMs in which to allow execution (0-3, 0,1)' },
    { long: 'memory', short: 'm', type: 'string', help: 'Memory limit' },
    { long: 'memory-reservation', type: 'string', help: 'Memory soft limit' },
    { long: 'memory-swap', type: 'string', help: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap' },
    { long: 'pids-limit', type: 'int', help: 'Tune container pids limit (set -1 for unlimited)' },
    { long: 'restart', type: 'string', help: 'Restart policy to apply when a container exits' },
  ],
  minArgs: 1,
  async run(ctx, flags, args) {
    const size = (name: string): number | undefined => {
      if (!flags.changed(name)) return undefined;
      const v = flags.string(name);
      if (name === 'memory-swap' && v === '-1') return -1;
      try {
        return ramInBytes(v);
      } catch (err) {
        throw new CliError(`invalid argument "${v}" for "--${name}" flag: ${(err as Error).message}`, 125);
      }
    };
    const body: Record<string, unknown> = {};
    const set = (key: string, v: unknown): void => {
      if (v !== undefined) body[key] = v;
    };
    set('Memory', size('memory'));
    set('MemoryReservation', size('memory-reservation'));
    set('MemorySwap', size('memory-swap'));
    set('NanoCpus', flags.changed('cpus') ? parseCpus(flags.string('cpus')) : undefined);
    set('CpuShares', flags.changed('cpu-shares') ? flags.int('cpu-shares') : undefined);
    set('CpuPeriod', flags.changed('cpu-period') ? flags.int('cpu-period') : undefined);
    set('CpuQuota', flags.changed('cpu-quota') ? flags.int('cpu-quota') : undefined);
    set('CpusetCpus', flags.changed('cpuset-cpus') ? flags.string('cpuset-cpus') : undefined);
    set('CpusetMems', flags.changed('cpuset-mems') ? flags.string('cpuset-mems') : undefined);
    set('PidsLimit', flags.changed('pids-limit') ? flags.int('pids-limit') : undefined);
    set('RestartPolicy', flags.changed('restart') ? parseRestartPolicy(flags.string('restart')) : undefined);
    if (Object.keys(body).length === 0) throw new CliError('you must provide one or more flags when using this command', 1);
    return forEachTarget(ctx, args, async (name) => {
      await ctx.client.call('POST', `/containers/${seg(name)}/update`, { body });
    });
  },
};
