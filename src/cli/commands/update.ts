import { CliError, forEachTarget, seg, type CommandSpec } from '../cli.ts';
import { parseCpus, parseRestartPolicy, ramInBytes, runFlags } from '../run-options.ts';

const UPDATABLE = ['blkio-weight', 'cpu-period', 'cpu-quota', 'cpu-rt-period', 'cpu-rt-runtime', 'cpu-shares', 'cpus', 'cpuset-cpus', 'cpuset-mems', 'kernel-memory', 'memory', 'memory-reservation', 'memory-swap', 'pids-limit', 'restart'];

export const command: CommandSpec = {
  name: 'update',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Update configuration of one or more containers',
  aliases: ['berth container update', 'berth update'],
  // The same flags as run's, with the same help.
  flags: runFlags('create').filter((f) => UPDATABLE.includes(f.long)),
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
    set('BlkioWeight', flags.changed('blkio-weight') ? flags.int('blkio-weight') : undefined);
    set('CpuRealtimePeriod', flags.changed('cpu-rt-period') ? flags.int('cpu-rt-period') : undefined);
    set('CpuRealtimeRuntime', flags.changed('cpu-rt-runtime') ? flags.int('cpu-rt-runtime') : undefined);
    set('KernelMemory', size('kernel-memory'));
    set('RestartPolicy', flags.changed('restart') ? parseRestartPolicy(flags.string('restart')) : undefined);
    if (Object.keys(body).length === 0) throw new CliError('you must provide one or more flags when using this command', 1);
    // As docker: the names as they are done, then every warning the daemon gave.
    const warnings: string[] = [];
    const code = await forEachTarget(ctx, args, async (name) => {
      const r = await ctx.client.json<{ Warnings?: string[] | null }>('POST', `/containers/${seg(name)}/update`, { body });
      warnings.push(...(r?.Warnings ?? []));
    });
    if (warnings.length > 0) ctx.out(`${warnings.join('\n')}\n`);
    return code;
  },
};
