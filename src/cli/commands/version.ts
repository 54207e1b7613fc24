import { DaemonUnreachableError } from '../../client/index.ts';
import type { CommandSpec } from '../cli.ts';
import { Template, unescapeFormat } from '../template.ts';

export const BERTH_VERSION = '0.1.0';
const API_VERSION = '1.44';

interface ServerVersion {
  Version?: string;
  ApiVersion?: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
  BuildTime?: string;
  Experimental?: boolean;
  Platform?: { Name?: string };
  Components?: Array<{ Name: string; Version: string; Details?: Record<string, string> }>;
}

function row(indent: string, label: string, value: string, width: number): string {
  return `${indent}${`${label}:`.padEnd(width)}${value}\n`;
}

export const command: CommandSpec = {
  name: 'version',
  usage: '[OPTIONS]',
  summary: 'Show the berth version information',
  flags: [{ long: 'format', short: 'f', type: 'string', help: "Format output using a custom template: 'json' or a Go template" }],
  maxArgs: 0,
  async run(ctx, flags) {
    const client = {
      Version: BERTH_VERSION,
      ApiVersion: API_VERSION,
      DefaultAPIVersion: API_VERSION,
      GoVersion: `node ${process.version}`,
      Os: process.platform,
      Arch: process.arch === 'x64' ? 'amd64' : process.arch,
      Context: 'default',
    };
    let server: ServerVersion | undefined;
    let failure: unknown;
    try {
      server = await ctx.client.json<ServerVersion>('GET', '/version');
    } catch (err) {
      failure = err;
    }
    const format = flags.string('format');
    if (format !== '') {
      const data = { Client: client, Server: server ?? null };
      ctx.out(format === 'json' ? `${JSON.stringify(data)}\n` : `${new Template(unescapeFormat(format)).execute(data)}\n`);
    } else {
      let out = 'Client:\n';
      out += row(' ', 'Version', client.Version, 19);
      out += row(' ', 'API version', client.ApiVersion, 19);
      out += row(' ', 'Node.js version', process.version, 19);
      out += row(' ', 'OS/Arch', `${client.Os}/${client.Arch}`, 19);
      out += row(' ', 'Context', client.Context, 19);
      if (server) {
        out += `\nServer:${server.Platform?.Name ? ` ${server.Platform.Name}` : ''}\n`;
        out += ' Engine:\n';
        out += row('  ', 'Version', server.Version ?? '', 18);
        out += row('  ', 'API version', `${server.ApiVersion ?? ''}${server.MinAPIVersion ? ` (minimum version ${server.MinAPIVersion})` : ''}`, 18);
        if (server.GoVersion) out += row('  ', 'Go version', server.GoVersion, 18);
        if (server.GitCommit) out += row('  ', 'Git commit', server.GitCommit, 18);
        if (server.BuildTime) out += row('  ', 'Built', server.BuildTime, 18);
        out += row('  ', 'OS/Arch', `${server.Os ?? ''}/${server.Arch ?? ''}`, 18);
        out += row('  ', 'Experimental', String(server.Experimental ?? false), 18);
        for (const c of server.Components ?? []) {
          if (c.Name === 'Engine') continue;
          out += ` ${c.Name}:\n`;
          out += row('  ', 'Version', c.Version, 18);
        }
      }
      ctx.out(out);
    }
    if (failure !== undefined) {
      if (failure instanceof DaemonUnreachableError) ctx.err(`${failure.message}\n`);
      else throw failure;
      return 1;
    }
    return 0;
  },
};
