// berth: the CLI entry point. Parses global flags, then loads only the module of the command
// asked for, so start-up stays cheap.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Client, resolveHost, type ClientTls } from '../client/index.ts';
import { FlagError } from './flags.ts';
import { CliError, daemonErrorText, errorText, runCommand, type CommandSpec, type Context } from './cli.ts';

type Loader = () => Promise<{ command: CommandSpec }>;

interface Entry {
  load: Loader;
  summary: string;
}

const C: Record<string, Entry> = {
  attach: { load: () => import('./commands/attach.ts'), summary: "Attach local standard input, output, and error streams to a running container" },
  create: { load: () => import('./commands/create.ts'), summary: 'Create a new container' },
  exec: { load: () => import('./commands/exec.ts'), summary: 'Execute a command in a running container' },
  inspect: { load: () => import('./commands/inspect.ts'), summary: 'Return low-level information on berth objects' },
  kill: { load: () => import('./commands/kill.ts'), summary: 'Kill one or more running containers' },
  logs: { load: () => import('./commands/logs.ts'), summary: 'Fetch the logs of a container' },
  pause: { load: () => import('./commands/pause.ts'), summary: 'Pause all processes within one or more containers' },
  port: { load: () => import('./commands/port.ts'), summary: 'List port mappings or a specific mapping for the container' },
  ps: { load: () => import('./commands/ps.ts'), summary: 'List containers' },
  rename: { load: () => import('./commands/rename.ts'), summary: 'Rename a container' },
  update: { load: () => import('./commands/update.ts'), summary: 'Update configuration of one or more containers' },
  search: { load: () => import('./commands/search.ts'), summary: 'Search Docker Hub for images' },
  restart: { load: () => import('./commands/restart.ts'), summary: 'Restart one or more containers' },
  rm: { load: () => import('./commands/rm.ts'), summary: 'Remove one or more containers' },
  run: { load: () => import('./commands/run.ts'), summary: 'Create and run a new container from an image' },
  start: { load: () => import('./commands/start.ts'), summary: 'Start one or more stopped containers' },
  stats: { load: () => import('./commands/stats.ts'), summary: 'Display a live stream of container(s) resource usage statistics' },
  stop: { load: () => import('./commands/stop.ts'), summary: 'Stop one or more running containers' },
  top: { load: () => import('./commands/top.ts'), summary: 'Display the running processes of a container' },
  unpause: { load: () => import('./commands/unpause.ts'), summary: 'Unpause all processes within one or more containers' },
  wait: { load: () => import('./commands/wait.ts'), summary: 'Block until one or more containers stop, then print their exit codes' },
  images: { load: () => import('./commands/images.ts'), summary: 'List images' },
  rmi: { load: () => import('./commands/rmi.ts'), summary: 'Remove one or more images' },
  tag: { load: () => import('./commands/tag.ts'), summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE' },
  import: { load: () => import('./commands/import.ts'), summary: 'Import the contents from a tarball to create a filesystem image' },
  version: { load: () => import('./commands/version.ts'), summary: 'Show the berth version information' },
  info: { load: () => import('./commands/info.ts'), summary: 'Display system-wide information' },
  events: { load: () => import('./commands/events.ts'), summary: 'Get real time events from the server' },
  history: { load: () => import('./commands/history.ts'), summary: 'Show the history of an image' },
  save: { load: async () => ({ command: (await import('./commands/save.ts')).save }), summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)' },
  load: { load: async () => ({ command: (await import('./commands/save.ts')).load }), summary: 'Load an image from a tar archive or STDIN' },
  build: { load: () => import('./commands/build.ts'), summary: 'Build an image from a Dockerfile' },
  compose: { load: () => import('./commands/compose.ts'), summary: 'Define and run multi-container applications' },
  pull: { load: () => import('./commands/pull.ts'), summary: 'Download an image from a registry' },
  push: { load: () => import('./commands/push.ts'), summary: 'Upload an image to a registry' },
  login: { load: async () => ({ command: (await import('./commands/login.ts')).login }), summary: 'Authenticate to a registry' },
  logout: { load: async () => ({ command: (await import('./commands/login.ts')).logout }), summary: 'Log out from a registry' },
  commit: { load: async () => ({ command: (await import('./commands/commit.ts')).commit }), summary: "Create a new image from a container's changes" },
  export: { load: async () => ({ command: (await import('./commands/commit.ts')).exportCmd }), summary: "Export a container's filesystem as a tar archive" },
  diff: { load: async () => ({ command: (await import('./commands/commit.ts')).diff }), summary: "Inspect changes to files or directories on a container's filesystem" },
  cp: { load: () => import('./commands/cp.ts'), summary: 'Copy files/folders between a container and the local filesystem' },
};

const CONTAINER_ONLY: Record<string, Entry> = {
  inspect: { load: () => import('./commands/container-inspect.ts'), summary: 'Display detailed information on one or more containers' },
  ls: { load: C['ps']!.load, summary: 'List containers' },
  prune: { load: () => import('./commands/prune.ts'), summary: 'Remove all stopped containers' },
};
const CONTAINER_SUBS = ['attach', 'commit', 'cp', 'diff', 'export', 'create', 'exec', 'kill', 'logs', 'pause', 'port', 'rename', 'restart', 'rm', 'run', 'start', 'stats', 'stop', 'top', 'unpause', 'update', 'wait'];

const IMAGE: Record<string, Entry> = {
  import: C['import']!,
  history: C['history']!,
  build: C['build']!,
  pull: C['pull']!,
  push: C['push']!,
  save: C['save']!,
  load: C['load']!,
  inspect: { load: () => import('./commands/image-inspect.ts'), summary: 'Display detailed information on one or more images' },
  ls: { load: C['images']!.load, summary: 'List images' },
  rm: { load: C['rmi']!.load, summary: 'Remove one or more images' },
  tag: C['tag']!,
  prune: { load: async () => ({ command: (await import('./commands/system.ts')).imagePrune }), summary: 'Remove unused images' },
};

const BUILDER: Record<string, Entry> = {
  build: C['build']!,
  prune: { load: async () => ({ command: (await import('./commands/system.ts')).builderPrune }), summary: 'Remove build cache' },
};

const SYSTEM: Record<string, Entry> = {
  df: { load: async () => ({ command: (await import('./commands/system.ts')).df }), summary: 'Show berth disk usage' },
  prune: { load: async () => ({ command: (await import('./commands/system.ts')).prune }), summary: 'Remove unused data' },
  info: C['info']!,
  events: C['events']!,
};

const netLoad = (k: 'create' | 'ls' | 'inspect' | 'rm' | 'prune' | 'connect' | 'disconnect'): Loader => async () => ({ command: (await import('./commands/network.ts'))[k] });
const NETWORK: Record<string, Entry> = {
  create: { load: netLoad('create'), summary: 'Create a network' },
  ls: { load: netLoad('ls'), summary: 'List networks' },
  inspect: { load: netLoad('inspect'), summary: 'Display detailed information on one or more networks' },
  rm: { load: netLoad('rm'), summary: 'Remove one or more networks' },
  prune: { load: netLoad('prune'), summary: 'Remove all unused networks' },
  connect: { load: netLoad('connect'), summary: 'Connect a container to a network' },
  disconnect: { load: netLoad('disconnect'), summary: 'Disconnect a container from a network' },
};

const volLoad = (k: 'create' | 'ls' | 'inspect' | 'rm' | 'prune'): Loader => async () => ({ command: (await import('./commands/volume.ts'))[k] });
const VOLUME: Record<string, Entry> = {
  create: { load: volLoad('create'), summary: 'Create a volume' },
  ls: { load: volLoad('ls'), summary: 'List volumes' },
  inspect: { load: volLoad('inspect'), summary: 'Display detailed information on one or more volumes' },
  rm: { load: volLoad('rm'), summary: 'Remove one or more volumes' },
  prune: { load: volLoad('prune'), summary: 'Remove unused local volumes' },
};

const regLoad = (k: 'serve' | 'gc'): Loader => async () => ({ command: (await import('./commands/registry.ts'))[k] });
const REGISTRY: Record<string, Entry> = {
  serve: { load: regLoad('serve'), summary: 'Run an OCI distribution registry in the foreground' },
  gc: { load: regLoad('gc'), summary: "Remove blobs no manifest refers to from a registry's storage" },
};

const BOOTSTRAP: Record<string, Entry> = {
  busybox: { load: () => import('./commands/bootstrap.ts'), summary: "Build busybox:latest from the host's static busybox (no registry needed)" },
};

function containerTable(): Record<string, Entry> {
  const t: Record<string, Entry> = { ...CONTAINER_ONLY };
  for (const s of CONTAINER_SUBS) t[s] = C[s]!;
  t['list'] = t['ls']!;
  t['ps'] = t['ls']!;
  t['remove'] = t['rm']!;
  return t;
}

function imageTable(): Record<string, Entry> {
  return { ...IMAGE, list: IMAGE['ls']!, remove: IMAGE['rm']! };
}

const GROUPS: Record<string, { summary: string; table: () => Record<string, Entry> }> = {
  container: { summary: 'Manage containers', table: containerTable },
  image: { summary: 'Manage images', table: imageTable },
  volume: { summary: 'Manage volumes', table: () => ({ ...VOLUME, list: VOLUME['ls']!, remove: VOLUME['rm']! }) },
  network: { summary: 'Manage networks', table: () => ({ ...NETWORK, list: NETWORK['ls']!, remove: NETWORK['rm']! }) },
  bootstrap: { summary: 'Build base images without a registry', table: () => BOOTSTRAP },
  system: { summary: 'Manage berth', table: () => SYSTEM },
  builder: { summary: 'Manage builds', table: () => BUILDER },
  registry: { summary: 'Run and maintain an OCI registry (no daemon needed)', table: () => REGISTRY },
};

const COMMON = ['run', 'exec', 'ps', 'images', 'info', 'version'];

function topUsage(): string {
  const row = (name: string, summary: string): string => `  ${name.padEnd(12)}${summary}`;
  const common = COMMON.map((n) => row(n, C[n]!.summary));
  const groups = Object.entries(GROUPS).map(([n, g]) => row(n, g.summary));
  const others = Object.keys(C)
    .filter((n) => !COMMON.includes(n))
    .sort()
    .map((n) => row(n, C[n]!.summary));
  return [
    'Usage:  berth [OPTIONS] COMMAND',
    '',
    'A Docker-compatible container engine',
    '',
    'Common Commands:',
    ...common,
    '',
    'Management Commands:',
    ...groups,
    '',
    'Commands:',
    ...others,
    '',
    'Global Options:',
    '  -D, --debug              Enable debug mode',
    '  -H, --host string        Daemon socket to connect to (default: $BERTH_HOST, $DOCKER_HOST or unix:///run/berth/berth.sock)',
    '  -l, --log-level string   Set the logging level ("debug", "info", "warn", "error", "fatal")',
    '  -v, --version            Print version information and quit',
    '',
    "Run 'berth COMMAND --help' for more information on a command.",
    '',
  ].join('\n');
}

function groupUsage(name: string): string {
  const group = GROUPS[name]!;
  const table = group.table();
  const rows = Object.keys(table)
    .filter((k) => !['list', 'ps', 'remove'].includes(k))
    .sort()
    .map((k) => `  ${k.padEnd(12)}${table[k]!.summary}`);
  return [`Usage:  berth ${name} COMMAND`, '', group.summary, '', 'Commands:', ...rows, '', `Run 'berth ${name} COMMAND --help' for more information on a command.`, ''].join('\n');
}

let stdinTouched = false;
function stdinUsed(): boolean {
  return stdinTouched;
}

/** Clients the command made: their connections are closed when it is done. */
const clients: Client[] = [];

/**
 * TLS to a tcp:// daemon, as the docker CLI does it: --tlsverify (or DOCKER_TLS_VERIFY) checks the
 * daemon against the CA and presents the client certificate; --tls alone encrypts without checking.
 * Files: the flags, else DOCKER_CERT_PATH (default ~/.docker) with ca.pem, cert.pem, key.pem.
 */
function clientTls(g: GlobalParse): ClientTls | undefined {
  const envVerify = process.env.DOCKER_TLS_VERIFY !== undefined && process.env.DOCKER_TLS_VERIFY !== '' && process.env.DOCKER_TLS_VERIFY !== '0';
  const verify = g.tlsVerify ?? envVerify;
  if (!verify && !g.tls) return undefined;
  const dir = process.env.DOCKER_CERT_PATH || join(homedir(), '.docker');
  const read = (file: string | undefined, name: string, must: boolean): Buffer | undefined => {
    const path = file ?? join(dir, name);
    if (!must && file === undefined && !existsSync(path)) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new CliError(`could not read TLS file ${path}: ${(err as Error).message}`, 1);
    }
  };
  const ca = read(g.tlsCaCert, 'ca.pem', verify);
  const cert = read(g.tlsCert, 'cert.pem', false);
  const key = read(g.tlsKey, 'key.pem', false);
  return { verify, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

function makeContext(host: string | undefined, g: GlobalParse): Context {
  let client: Client | undefined;
  return {
    get client(): Client {
      if (!client) {
        const tls = clientTls(g);
        client = new Client({ host: resolveHost({ flag: host }), ...(tls ? { tls } : {}) });
        clients.push(client);
      }
      return client;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    get stdin(): NodeJS.ReadStream {
      stdinTouched = true;
      return process.stdin;
    },
    env: process.env,
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
  };
}

interface GlobalParse {
  host?: string;
  tls?: boolean;
  tlsVerify?: boolean;
  tlsCaCert?: string;
  tlsCert?: string;
  tlsKey?: string;
  rest: string[];
  help: boolean;
  version: boolean;
}

function parseGlobal(argv: readonly string[]): GlobalParse {
  const out: GlobalParse = { rest: [], help: false, version: false };
  let i = 0;
  while (i < argv.length) {
    const a = argv[i] as string;
    if (!a.startsWith('-') || a === '-') break;
    i++;
    if (a === '--') break;
    const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      if (i >= argv.length) throw new FlagError(`flag needs an argument: ${name}`);
      return argv[i++] as string;
    };
    if (name === '-H' || name === '--host') out.host = value();
    else if (name === '-l' || name === '--log-level' || name === '--config' || name === '-c' || name === '--context') value();
    else if (name === '--tls') out.tls = inline === undefined || !/^(0|f|false)$/i.test(inline);
    else if (name === '--tlsverify') out.tlsVerify = inline === undefined || !/^(0|f|false)$/i.test(inline);
    else if (name === '--tlscacert') out.tlsCaCert = value();
    else if (name === '--tlscert') out.tlsCert = value();
    else if (name === '--tlskey') out.tlsKey = value();
    else if (name === '-D' || name === '--debug') continue;
    else if (name === '-h' || name === '--help') out.help = true;
    else if (name === '-v' || name === '--version') out.version = true;
    else if (name.startsWith('-H') && !name.startsWith('--')) out.host = name.slice(2);
    else throw new FlagError(`unknown flag: ${name}`);
  }
  out.rest = argv.slice(i);
  return out;
}

async function flush(): Promise<void> {
  await Promise.all(
    [process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => (s.writableLength === 0 ? resolve() : s.write('', () => resolve())))),
  );
}

async function execute(argv: readonly string[]): Promise<number> {
  let global: GlobalParse;
  try {
    global = parseGlobal(argv);
  } catch (err) {
    process.stderr.write(`${errorText(err)}\n\n${topUsage()}`);
    return 125;
  }
  if (global.version) {
    const { BERTH_VERSION, BERTH_COMMIT } = await import('../core/version.ts');
    process.stdout.write(`berth version ${BERTH_VERSION}${BERTH_COMMIT ? `, build ${BERTH_COMMIT}` : ''}\n`);
    return 0;
  }
  const [first, ...rest] = global.rest;
  if (first === undefined || (global.help && first === undefined)) {
    process.stdout.write(topUsage());
    return 0;
  }
  if (first === 'help') {
    process.stdout.write(topUsage());
    return 0;
  }
  if (first === 'completion') {
    const shell = rest[0];
    if (shell !== 'bash' && shell !== 'zsh') {
      process.stderr.write('Usage:  berth completion bash|zsh\n\nPrints a shell completion script: eval "$(berth completion bash)"\n');
      return 1;
    }
    const { completionScript } = await import('./completion.ts');
    const groups = Object.fromEntries(Object.entries(GROUPS).map(([g, v]) => [g, Object.keys(v.table())]));
    process.stdout.write(completionScript(shell, { commands: [...Object.keys(C), ...Object.keys(GROUPS), 'completion'].sort(), groups }));
    return 0;
  }
  let entry: Entry | undefined = Object.hasOwn(C, first) ? C[first] : undefined;
  let args = rest;
  let invokedAs: string | undefined;
  const group = Object.hasOwn(GROUPS, first) ? GROUPS[first] : undefined;
  if (group) {
    const [sub, ...subRest] = rest;
    const table = group.table();
    if (sub === undefined || sub === '--help' || sub === '-h') {
      process.stdout.write(groupUsage(first));
      return 0;
    }
    entry = Object.hasOwn(table, sub) ? table[sub] : undefined;
    if (!entry) {
      process.stderr.write(`berth: unknown command: berth ${first} ${sub}\n\nUsage:  berth ${first}\n\nRun 'berth ${first} --help' for more information\n`);
      return 1;
    }
    args = subRest;
    invokedAs = `${first} ${sub}`;
  }
  if (!entry) {
    process.stderr.write(`berth: unknown command: berth ${first}\n\nRun 'berth --help' for more information\n`);
    return 1;
  }
  const { command } = await entry.load();
  const ctx = makeContext(global.host, global);
  if (global.help) args = ['--help', ...args];
  return runCommand(invokedAs !== undefined ? { ...command, name: invokedAs } : command, ctx, args);
}

// The bundle is CommonJS: Node's ESM facade for node:http eagerly loads its web (undici)
// exports, which costs ~15 ms on every command.
void (async () => {
  const code = await execute(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${daemonErrorText(err)}\n`);
    return 1;
  });
  await flush();
  // Ending by an empty event loop rather than process.exit(): exit() shuts V8's worker threads
  // down before the heap, and a background compile waiting for a collection then never returns
  // (seen after large loads). Whatever still holds the loop open is closed; an unref'd timer is
  // the last resort.
  process.exitCode = code;
  if (stdinUsed()) process.stdin.destroy();
  // Keep-alive connections the command left (e.g. one per parallel request) would hold the loop.
  for (const c of clients) c.close();
  setTimeout(() => process.exit(code), 3000).unref();
})();
