import { DaemonUnreachableError } from '../../client/index.ts';
import type { CommandSpec } from '../cli.ts';
import { Template, unescapeFormat } from '../template.ts';
import { BERTH_COMMIT, BERTH_COMMIT_DATE, BERTH_VERSION } from '../../core/version.ts';

export { BERTH_VERSION };

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

/** A build time as the docker CLI prints it (Go's ANSIC layout, UTC): `Thu May  7 21:09:36 2026`. */
export function ansic(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
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
      GitCommit: BERTH_COMMIT,
      BuildTime: BERTH_COMMIT_DATE,
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
      if (client.GitCommit) out += row(' ', 'Git commit', client.GitCommit, 19);
      if (client.BuildTime) out += row(' ', 'Built', ansic(client.BuildTime), 19);
      out += row(' ', 'OS/Arch', `${client.Os}/${client.Arch}`, 19);
      out += row(' ', 'Context', client.Context, 19);
      if (server) {
        out += `\nServer:${server.Platform?.Name ? ` ${server.Platform.Name}` : ''}\n`;
        out += ' Engine:\n';
        out += row('  ', 'Version', server.Version ?? '', 18);
        out += row('  ', 'API version', `${server.ApiVersion ?? ''}${server.MinAPIVersion ? ` (minimum version ${server.MinAPIVersion})` : ''}`, 18);
        if (server.GoVersion) out += row('  ', 'Go version', server.GoVersion, 18);
        if (server.GitCommit) out += row('  ', 'Git commit', server.GitCommit, 18);
        if (server.BuildTime) out += row('  ', 'Built', ansic(server.BuildTime), 18);
        out += row('  ', 'OS/Arch', `${server.Os ?? ''}/${server.Arch ?? ''}`, 18);
        out += row('  ', 'Experimental', String(server.Experimental ?? false), 18);
        for (const c of server.Components ?? []) {
          if (c.Name === 'Engine') continue;
          out += ` ${c.Name}:\n`;
          out += row('  ', 'Version', c.Version, 18);
          out += row('  ', 'GitCommit', c.Details?.['GitCommit'] ?? '', 18);
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
