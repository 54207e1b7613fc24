import type { CommandSpec } from '../cli.ts';
import { bytesSize } from '../format.ts';
import { Template, unescapeFormat } from '../template.ts';

type Info = Record<string, unknown>;

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

export const command: CommandSpec = {
  name: 'info',
  usage: '[OPTIONS]',
  summary: 'Display system-wide information',
  flags: [{ long: 'format', short: 'f', type: 'string', help: "Format output using a custom template: 'json' or a Go template" }],
  maxArgs: 0,
  async run(ctx, flags) {
    const info = await ctx.client.json<Info>('GET', '/info');
    const format = flags.string('format');
    if (format !== '') {
      ctx.out(format === 'json' ? `${JSON.stringify(info)}\n` : `${new Template(unescapeFormat(format)).execute(info)}\n`);
      return 0;
    }
    const lines: string[] = ['Client:', ' Version:    0.1.0', ' Context:    default', ' Debug Mode: false', '', 'Server:'];
    const add = (label: string, value: unknown): void => {
      if (value !== undefined && value !== null && value !== '') lines.push(` ${label}: ${str(value)}`);
    };
    add('Containers', info['Containers']);
    lines.push(`  Running: ${str(info['ContainersRunning'] ?? 0)}`, `  Paused: ${str(info['ContainersPaused'] ?? 0)}`, `  Stopped: ${str(info['ContainersStopped'] ?? 0)}`);
    add('Images', info['Images']);
    add('Server Version', info['ServerVersion']);
    add('Storage Driver', info['Driver']);
    add('Logging Driver', info['LoggingDriver']);
    add('Cgroup Driver', info['CgroupDriver']);
    add('Cgroup Version', info['CgroupVersion']);
    const runtimes = info['Runtimes'];
    if (runtimes && typeof runtimes === 'object') add('Runtimes', Object.keys(runtimes).sort().join(' '));
    add('Default Runtime', info['DefaultRuntime']);
    add('Kernel Version', info['KernelVersion']);
    add('Operating System', info['OperatingSystem']);
    add('OSType', info['OSType']);
    add('Architecture', info['Architecture']);
    add('CPUs', info['NCPU']);
    if (typeof info['MemTotal'] === 'number') add('Total Memory', bytesSize(info['MemTotal']));
    add('Name', info['Name']);
    add('ID', info['ID']);
    add('Docker Root Dir', info['DockerRootDir']);
    add('Debug Mode', info['Debug'] ?? false);
    add('Experimental', info['ExperimentalBuild'] ?? false);
    add('Live Restore Enabled', info['LiveRestoreEnabled'] ?? false);
    ctx.out(`${lines.join('\n')}\n\n`);
    for (const w of (info['Warnings'] as string[] | null | undefined) ?? []) ctx.err(`${w}\n`);
    return 0;
  },
};
