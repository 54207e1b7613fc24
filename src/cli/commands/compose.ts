// berth compose: multi-container applications from compose files, run through berthd.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ApiError, type Client } from '../../client/index.ts';
import { loadProject, toYaml } from '../../compose/index.ts';
import type { Project, Service } from '../../compose/types.ts';
import { CliError, runCommand, seg, type CommandSpec, type Context } from '../cli.ts';
import type { Flags } from '../flags.ts';
import { pullImage } from '../create-container.ts';
import { columns, humanSize, timeAgo } from '../format.ts';
import { BERTH_VERSION } from './version.ts';
import { contextTar } from './build.ts';
import { packEntries } from '../../adapters/tar/index.ts';
import { command as execCommand } from './exec.ts';
import { command as pushCommand } from './push.ts';
import { command as cpCommand } from './cp.ts';
import { command as attachCommand } from './attach.ts';
import type { EventMessage } from './events.ts';
import { L, createBody, ensureNetworks, ensureVolumes, projectContainers, serviceOrder, streamLogs, waitForCondition, imageName, type ContainerSummary } from '../compose/engine.ts';

interface Global {
  files: string[];
  projectName?: string;
  envFiles: string[];
  profiles: string[];
  cwd: string;
}

const COLORS = [36, 33, 32, 35, 34, 31, 96, 93, 92, 95, 94, 91];

function load(ctx: Context, g: Global): Project {
  return loadProject({
    files: g.files,
    ...(g.projectName ? { projectName: g.projectName } : {}),
    env: ctx.env,
    ...(g.envFiles.length > 0 ? { envFiles: g.envFiles } : {}),
    profiles: g.profiles,
    cwd: g.cwd,
  });
}

/** The project name without loading files (for down/ps/logs when the files are gone, as compose allows with -p). */
function projectOf(ctx: Context, g: Global): { name: string; project?: Project } {
  try {
    const project = load(ctx, g);
    return { name: project.name, project };
  } catch (err) {
    if (g.projectName) return { name: g.projectName };
    throw err;
  }
}

function serviceOf(c: ContainerSummary): string {
  return c.Labels[L.service] ?? '';
}

function nameOf(c: ContainerSummary): string {
  return (c.Names[0] ?? c.Id).replace(/^\//, '');
}

function selected(list: ContainerSummary[], services: string[]): ContainerSummary[] {
  return services.length === 0 ? list : list.filter((c) => services.includes(serviceOf(c)));
}

function checkServices(project: Project | undefined, services: string[]): void {
  if (!project) return;
  for (const s of services) if (!project.services[s]) throw new CliError(`no such service: ${s}`, 1);
}

async function ensureImage(ctx: Context, project: Project, svc: Service, opts: { build: boolean; pull?: boolean }): Promise<void> {
  const image = imageName(project, svc);
  const present = await ctx.client.request('GET', `/images/${seg(image)}/json`).then(
    () => true,
    (err: unknown) => {
      if (err instanceof ApiError && err.status === 404) return false;
      throw err;
    },
  );
  if (svc.build && (opts.build || !present)) {
    await buildService(ctx, project, svc, image);
    return;
  }
  if (!present || opts.pull || svc.pullPolicy === 'always') {
    if (svc.pullPolicy === 'never' && !present) throw new CliError(`image ${image} not found and pull_policy is never`, 1);
    ctx.err(` ${svc.name} Pulling\n`);
    await pullImage(ctx, image);
    ctx.err(` ${svc.name} Pulled\n`);
  }
}

async function buildService(ctx: Context, project: Project, svc: Service, tag: string): Promise<void> {
  const b = svc.build!;
  if (!existsSync(b.context)) throw new CliError(`build path ${b.context} either does not exist, is not accessible, or is not a valid URL.`, 1);
  ctx.err(` Building ${svc.name}\n`);
  const { body, dockerfile } = contextTar(b.context, b.dockerfile, ctx);
  const query: Record<string, string | string[] | undefined> = {
    t: [tag],
    dockerfile,
    rm: '1',
    buildargs: Object.keys(b.args).length > 0 ? JSON.stringify(b.args) : undefined,
    labels: JSON.stringify({ ...b.labels, [L.project]: project.name, [L.service]: svc.name }),
    target: b.target,
  };
  for await (const raw of ctx.client.streamJsonLines('/build', { method: 'POST', query, body: body as never, headers: { 'Content-Type': 'application/x-tar' } })) {
    const m = (raw ?? {}) as { stream?: string; error?: string; errorDetail?: { message?: string; code?: number } };
    if (m.error || m.errorDetail) throw new CliError(`failed to solve: ${m.errorDetail?.message ?? m.error}`, m.errorDetail?.code && m.errorDetail.code < 256 ? m.errorDetail.code : 1);
    if (m.stream) ctx.err(m.stream);
  }
}

async function createAndStart(ctx: Context, project: Project, svc: Service, n: number, start: boolean): Promise<string> {
  const { name, body, extraNetworks, injected } = createBody(project, svc, n, ctx.env);
  const created = await ctx.client.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body });
  if (injected.length > 0) {
    // Secrets and configs given as content go in through the archive API, before the start.
    const tarStream = packEntries(injected.map((f) => ({ name: f.target.replace(/^\/+/, ''), type: 'file' as const, mode: 0o444, content: Buffer.from(f.content) })));
    await ctx.client.call('PUT', `/containers/${created.Id}/archive`, { query: { path: '/' }, body: tarStream as never, headers: { 'Content-Type': 'application/x-tar' } });
  }
  for (const x of extraNetworks) {
    await ctx.client.call('POST', `/networks/${seg(x.network)}/connect`, { body: { Container: created.Id, EndpointConfig: { Aliases: x.aliases, ...(x.ip || x.ip6 ? { IPAMConfig: { ...(x.ip ? { IPv4Address: x.ip } : {}), ...(x.ip6 ? { IPv6Address: x.ip6 } : {}) } } : {}) } } });
  }
  ctx.err(` Container ${name}  Created\n`);
  if (start) {
    await ctx.client.call('POST', `/containers/${created.Id}/start`);
    ctx.err(` Container ${name}  Started\n`);
  }
  return created.Id;
}

/** Stops (with the container's own stop timeout, i.e. stop_grace_period, unless one is given) and removes. */
async function removeContainer(client: Client, c: ContainerSummary, timeout: number | undefined, say: (s: string) => void): Promise<void> {
  if (c.State === 'running' || c.State === 'paused' || c.State === 'restarting') {
    say(` Container ${nameOf(c)}  Stopping`);
    await client.call('POST', `/containers/${c.Id}/stop`, { query: timeout !== undefined ? { t: String(timeout) } : {} }).catch(() => {});
    say(` Container ${nameOf(c)}  Stopped`);
  }
  say(` Container ${nameOf(c)}  Removing`);
  await client.call('DELETE', `/containers/${c.Id}`, { query: { force: '1', v: '0' } });
  say(` Container ${nameOf(c)}  Removed`);
}

async function up(ctx: Context, g: Global, flags: Flags, services: string[]): Promise<number> {
  const project = load(ctx, g);
  checkServices(project, services);
  const say = (s: string): void => ctx.err(`${s}\n`);
  const order = serviceOrder(project);
  // The services asked for, and (unless --no-deps) everything they depend on.
  const wanted = new Set<string>();
  const add = (s: string): void => {
    if (wanted.has(s)) return;
    wanted.add(s);
    if (!flags.bool('no-deps')) for (const d of Object.keys(project.services[s]?.dependsOn ?? {})) if (project.services[d]) add(d);
  };
  for (const s of services.length > 0 ? services : order) add(s);
  await ensureNetworks(ctx.client, project, say);
  await ensureVolumes(ctx.client, project, say);
  for (const s of order.filter((x) => wanted.has(x))) await ensureImage(ctx, project, project.services[s]!, { build: flags.bool('build'), pull: flags.string('pull') === 'always' });

  const existing = await projectContainers(ctx.client, project.name, { oneoff: false });
  const orphans = existing.filter((c) => !project.services[serviceOf(c)] && !project.disabled[serviceOf(c)]);
  if (orphans.length > 0) {
    if (flags.bool('remove-orphans')) for (const c of orphans) await removeContainer(ctx.client, c, undefined, say);
    else say(`WARN[0000] Found orphan containers ([${orphans.map(nameOf).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
  }
  const idsBySvc = new Map<string, string[]>();
  const scale = new Map<string, number>();
  for (const s of flags.list('scale')) {
    const [k, v] = s.split('=');
    if (!k || v === undefined || !/^\d+$/.test(v)) throw new CliError(`invalid --scale value: ${s}`, 1);
    scale.set(k, Number(v));
  }
  // Each service starts once the services it depends on are up (or healthy, or done); services
  // with nothing between them start side by side.
  const started = new Map<string, Promise<void>>();
  const bring = async (s: string): Promise<void> => {
    const svc = project.services[s]!;
    await Promise.all(Object.keys(svc.dependsOn).filter((dep) => started.has(dep)).map((dep) => started.get(dep)));
    for (const [dep, cond] of Object.entries(svc.dependsOn)) {
      for (const id of idsBySvc.get(dep) ?? []) {
        if (cond.condition !== 'service_started') say(` Container ${project.name}-${dep}  Waiting`);
        await waitForCondition(ctx.client, id, cond.condition, dep);
        if (cond.condition !== 'service_started') say(` Container ${project.name}-${dep}  ${cond.condition === 'service_healthy' ? 'Healthy' : 'Exited'}`);
      }
    }
    const replicas = scale.get(s) ?? svc.replicas;
    const mine = existing.filter((c) => serviceOf(c) === s);
    const ids: string[] = [];
    const { body } = createBody(project, svc, 1, ctx.env);
    const hash = (body.Labels as Record<string, string>)[L.hash];
    for (let n = 1; n <= replicas; n++) {
      const cur = mine.find((c) => c.Labels[L.number] === String(n));
      if (cur && (flags.bool('force-recreate') || cur.Labels[L.hash] !== hash) && !flags.bool('no-recreate')) {
        say(` Container ${nameOf(cur)}  Recreate`);
        await removeContainer(ctx.client, cur, undefined, () => {});
        ids.push(await createAndStart(ctx, project, svc, n, true));
        continue;
      }
      if (cur) {
        if (cur.State !== 'running') {
          await ctx.client.call('POST', `/containers/${cur.Id}/start`);
          say(` Container ${nameOf(cur)}  Started`);
        } else say(` Container ${nameOf(cur)}  Running`);
        ids.push(cur.Id);
        continue;
      }
      ids.push(await createAndStart(ctx, project, svc, n, true));
    }
    for (const c of mine.filter((x) => Number(x.Labels[L.number]) > replicas)) await removeContainer(ctx.client, c, undefined, say);
    idsBySvc.set(s, ids);
  };
  for (const s of order.filter((x) => wanted.has(x))) {
    const p = bring(s);
    p.catch(() => {});
    started.set(s, p);
  }
  await Promise.all(started.values());
  if (flags.bool('wait')) {
    for (const [s, ids] of idsBySvc) {
      const cond = project.services[s]?.healthcheck && !project.services[s]!.healthcheck!.disable ? 'service_healthy' : 'service_started';
      for (const id of ids) await waitForCondition(ctx.client, id, cond, s);
    }
    return 0;
  }
  if (flags.bool('detach')) return 0;
  return attachLogs(ctx, [...idsBySvc.entries()], flags.bool('abort-on-container-exit'));
}

/** Attached `up`: prefixed logs of every container until they all exit (Ctrl-C stops them). */
async function attachLogs(ctx: Context, bySvc: Array<[string, string[]]>, abortOnExit: boolean): Promise<number> {
  const all = bySvc.flatMap(([s, ids]) => ids.map((id, i) => ({ s, id, n: i + 1 })));
  const width = Math.max(...all.map((c) => `${c.s}-${c.n}`.length));
  const ac = new AbortController();
  let exitCode = 0;
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    ctx.err('Gracefully stopping... (press Ctrl+C again to force)\n');
    await Promise.all(all.map((c) => ctx.client.call('POST', `/containers/${c.id}/stop`).catch(() => {})));
  };
  const onSig = (): void => {
    if (stopping) process.exit(130);
    void stopAll();
  };
  process.on('SIGINT', onSig);
  try {
    await Promise.all(
      all.map(async (c, i) => {
        const color = COLORS[i % COLORS.length]!;
        const prefix = ctx.stdout.isTTY ? `\x1b[${color}m${`${c.s}-${c.n}`.padEnd(width)}  |\x1b[0m ` : `${`${c.s}-${c.n}`.padEnd(width)}  | `;
        const info = await ctx.client.json<{ Config: { Tty: boolean } }>('GET', `/containers/${c.id}/json`);
        await streamLogs(ctx.client, c.id, prefix, (t) => ctx.out(t), { follow: true, tty: info.Config.Tty, signal: ac.signal });
        const st = await ctx.client.json<{ State: { ExitCode: number } }>('GET', `/containers/${c.id}/json`).catch(() => ({ State: { ExitCode: 0 } }));
        ctx.out(`${c.s}-${c.n} exited with code ${st.State.ExitCode}\n`);
        if (abortOnExit && !stopping) {
          exitCode = st.State.ExitCode;
          ac.abort();
          await stopAll();
        }
      }),
    );
  } finally {
    process.off('SIGINT', onSig);
  }
  return exitCode;
}

async function down(ctx: Context, g: Global, flags: Flags): Promise<number> {
  const { name, project } = projectOf(ctx, g);
  const say = (s: string): void => ctx.err(`${s}\n`);
  const timeout = flags.changed('timeout') ? flags.int('timeout') : undefined;
  const containers = await projectContainers(ctx.client, name);
  const keep = (c: ContainerSummary): boolean => !flags.bool('remove-orphans') && project !== undefined && !project.services[serviceOf(c)] && !project.disabled[serviceOf(c)];
  // Dependents first: the reverse of the start order.
  const order = project ? serviceOrder(project).reverse() : [];
  const rank = (c: ContainerSummary): number => {
    const i = order.indexOf(serviceOf(c));
    return i < 0 ? -1 : i;
  };
  const doomed = containers.filter((c) => !keep(c)).sort((a, b) => rank(a) - rank(b));
  await Promise.all(doomed.filter((c) => c.State === 'running').map((c) => ctx.client.call('POST', `/containers/${c.Id}/stop`, { query: timeout !== undefined ? { t: String(timeout) } : {} }).catch(() => {})));
  for (const c of doomed) await removeContainer(ctx.client, { ...c, State: 'exited' }, timeout, say);
  const nets = await ctx.client.json<Array<{ Id: string; Name: string; Labels: Record<string, string> | null }>>('GET', '/networks', { query: { filters: JSON.stringify({ label: [`${L.project}=${name}`] }) } });
  for (const n of nets) {
    await ctx.client.call('DELETE', `/networks/${n.Id}`).catch((err: unknown) => say(`failed to remove network ${n.Name}: ${(err as Error).message}`));
    say(` Network ${n.Name}  Removed`);
  }
  if (flags.bool('volumes')) {
    const vols = await ctx.client.json<{ Volumes: Array<{ Name: string }> | null }>('GET', '/volumes', { query: { filters: JSON.stringify({ label: [`${L.project}=${name}`] }) } });
    for (const v of vols.Volumes ?? []) {
      await ctx.client.call('DELETE', `/volumes/${seg(v.Name)}`).catch((err: unknown) => say(`failed to remove volume ${v.Name}: ${(err as Error).message}`));
      say(` Volume ${v.Name}  Removed`);
    }
  }
  const rmi = flags.changed('rmi') ? flags.string('rmi') : '';
  if (rmi !== '' && project) {
    if (rmi !== 'local' && rmi !== 'all') throw new CliError(`invalid --rmi value: ${rmi}: local or all`, 1);
    for (const svc of Object.values(project.services)) {
      if (rmi === 'local' && svc.image !== undefined) continue;
      const image = imageName(project, svc);
      await ctx.client.call('DELETE', `/images/${seg(image)}`).then(
        () => say(` Image ${image}  Removed`),
        () => {},
      );
    }
  }
  return 0;
}

function portsText(c: ContainerSummary): string {
  return c.Ports.map((p) => (p.PublicPort ? `${p.IP && p.IP !== '' ? p.IP : '0.0.0.0'}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`)).join(', ');
}

async function ps(ctx: Context, g: Global, flags: Flags, services: string[]): Promise<number> {
  const { name } = projectOf(ctx, g);
  let list = selected(await projectContainers(ctx.client, name, { oneoff: false }), services);
  if (!flags.bool('all')) list = list.filter((c) => c.State === 'running' || c.State === 'paused' || c.State === 'restarting');
  if (flags.bool('quiet')) {
    for (const c of list) ctx.out(`${c.Id}\n`);
    return 0;
  }
  const rows = [['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'], ...list.map((c) => [nameOf(c), c.Image, JSON.stringify(c.Command.length > 20 ? `${c.Command.slice(0, 19)}…` : c.Command), serviceOf(c), timeAgo(c.Created * 1000), c.Status, portsText(c)])];
  ctx.out(columns(rows));
  return 0;
}

async function logs(ctx: Context, g: Global, flags: Flags, services: string[]): Promise<number> {
  const { name } = projectOf(ctx, g);
  const list = selected(await projectContainers(ctx.client, name, { oneoff: false }), services);
  const width = Math.max(0, ...list.map((c) => nameOf(c).replace(`${name}-`, '').length));
  await Promise.all(
    list.map(async (c, i) => {
      const label = nameOf(c).replace(`${name}-`, '');
      const prefix = flags.bool('no-log-prefix') ? '' : ctx.stdout.isTTY && !flags.bool('no-color') ? `\x1b[${COLORS[i % COLORS.length]}m${label.padEnd(width)}  |\x1b[0m ` : `${label.padEnd(width)}  | `;
      const info = await ctx.client.json<{ Config: { Tty: boolean } }>('GET', `/containers/${c.Id}/json`);
      const opts: Parameters<typeof streamLogs>[4] = { follow: flags.bool('follow'), tty: info.Config.Tty, timestamps: flags.bool('timestamps') };
      if (flags.changed('tail')) opts.tail = flags.string('tail');
      await streamLogs(ctx.client, c.Id, prefix, (t) => ctx.out(t), opts);
    }),
  );
  return 0;
}

async function lifecycle(ctx: Context, g: Global, flags: Flags, services: string[], action: 'start' | 'stop' | 'restart' | 'kill' | 'pause' | 'unpause'): Promise<number> {
  const { name, project } = projectOf(ctx, g);
  checkServices(project, services);
  const list = selected(await projectContainers(ctx.client, name, { oneoff: false }), services);
  const verb = { start: 'Started', stop: 'Stopped', restart: 'Restarted', kill: 'Killed', pause: 'Paused', unpause: 'Unpaused' }[action];
  const query: Record<string, string> = {};
  if ((action === 'stop' || action === 'restart') && flags.changed('timeout')) query.t = String(flags.int('timeout'));
  if (action === 'kill' && flags.changed('signal')) query.signal = flags.string('signal');
  for (const c of list) {
    if (action === 'start' && c.State === 'running') continue;
    if (action === 'kill' && c.State !== 'running') continue;
    await ctx.client.call('POST', `/containers/${c.Id}/${action}`, { query });
    ctx.err(` Container ${nameOf(c)}  ${verb}\n`);
  }
  return 0;
}

async function rm(ctx: Context, g: Global, flags: Flags, services: string[]): Promise<number> {
  const { name } = projectOf(ctx, g);
  let list = selected(await projectContainers(ctx.client, name), services);
  if (flags.bool('stop')) for (const c of list.filter((x) => x.State === 'running')) await ctx.client.call('POST', `/containers/${c.Id}/stop`);
  list = selected(await projectContainers(ctx.client, name), services).filter((c) => c.State !== 'running');
  if (list.length === 0) {
    ctx.err('No stopped containers\n');
    return 0;
  }
  for (const c of list) {
    await ctx.client.call('DELETE', `/containers/${c.Id}`, { query: { v: flags.bool('volumes') ? '1' : undefined } });
    ctx.err(` Container ${nameOf(c)}  Removed\n`);
  }
  return 0;
}

async function exec(ctx: Context, g: Global, argv: string[]): Promise<number> {
  // compose exec [OPTIONS] SERVICE COMMAND…: the container of the service (--index N), then berth exec.
  const opts: string[] = [];
  let i = 0;
  let index = 1;
  let tty = ctx.stdin.isTTY === true;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    const a = argv[i]!;
    if (a === '-T' || a === '--no-TTY' || a === '--no-tty') tty = false;
    else if (a === '-d' || a === '--detach' || a === '--privileged') opts.push(a);
    else if (a.startsWith('--index')) index = Number(a.includes('=') ? a.split('=')[1] : argv[++i]);
    else if (['-e', '--env', '-u', '--user', '-w', '--workdir'].includes(a)) opts.push(a, argv[++i] ?? '');
    else if (/^--(env|user|workdir)=/.test(a)) opts.push(a);
    else throw new CliError(`unknown flag: ${a}`, 1);
  }
  const service = argv[i];
  const cmd = argv.slice(i + 1);
  if (!service || cmd.length === 0) throw new CliError('"compose exec" requires at least 2 arguments: SERVICE COMMAND', 1);
  const c = await serviceContainer(ctx, g, service, index, { running: true });
  return runCommand(execCommand, ctx, [...opts, ...(tty ? ['-it'] : ctx.stdin.isTTY ? [] : ['-i']), c.Id, ...cmd]);
}

/** The container of a service (its --index replica), running or not unless asked. */
async function serviceContainer(ctx: Context, g: Global, service: string, index: number, opts: { running?: boolean } = {}): Promise<ContainerSummary> {
  const { name, project } = projectOf(ctx, g);
  checkServices(project, [service]);
  const c = (await projectContainers(ctx.client, name, { oneoff: false })).find((x) => serviceOf(x) === service && x.Labels[L.number] === String(index));
  if (!c) throw new CliError(`no container found for ${service}_${index}`, 1);
  if (opts.running && c.State !== 'running') throw new CliError(`service "${service}" is not running`, 1);
  return c;
}

/** `compose events`: the project's container events, as docker compose prints them (or JSON lines). */
async function events(ctx: Context, g: Global, flags: Flags, services: string[]): Promise<number> {
  const { name } = projectOf(ctx, g);
  const filters = JSON.stringify({ type: ['container'], label: [`${L.project}=${name}`] });
  for await (const raw of ctx.client.streamJsonLines('/events', { query: { filters } })) {
    const e = raw as EventMessage;
    const attrs = e.Actor?.Attributes ?? {};
    const service = attrs[L.service] ?? '';
    if (services.length > 0 && !services.includes(service)) continue;
    const ms = e.timeNano !== undefined ? Number(BigInt(Math.trunc(e.timeNano)) / 1_000_000n) : (e.time ?? 0) * 1000;
    const micros = e.timeNano !== undefined ? String(BigInt(Math.trunc(e.timeNano)) / 1000n % 1_000_000n).padStart(6, '0') : '000000';
    const shown: Record<string, string> = {};
    for (const k of Object.keys(attrs).sort()) if (!k.startsWith('com.docker.compose.')) shown[k] = attrs[k]!;
    if (flags.bool('json')) {
      ctx.out(`${JSON.stringify({ time: new Date(ms).toISOString(), type: 'container', action: e.Action ?? '', id: e.Actor?.ID ?? '', service, attributes: shown })}\n`);
    } else {
      const d = new Date(ms);
      const p2 = (n: number): string => String(n).padStart(2, '0');
      const when = `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${micros}`;
      ctx.out(`${when} container ${e.Action ?? ''} ${e.Actor?.ID ?? ''} (${Object.entries(shown).map(([k, v]) => `${k}=${v}`).join(', ')})\n`);
    }
  }
  return 0;
}

/** `compose cp [OPTIONS] SERVICE:SRC DEST` (or the reverse): berth cp with the service's container. */
async function cp(ctx: Context, g: Global, flags: Flags, args: string[]): Promise<number> {
  const { project } = projectOf(ctx, g);
  const index = flags.changed('index') ? flags.int('index') : 1;
  const isService = (a: string): boolean => {
    const colon = a.indexOf(':');
    return colon > 0 && !a.startsWith('/') && !a.startsWith('.') && (project === undefined || project.services[a.slice(0, colon)] !== undefined);
  };
  const [a, b] = args as [string, string];
  const which = isService(a) ? 0 : isService(b) ? 1 : -1;
  if (which < 0) throw new CliError('one of the paths must name a service: SERVICE:PATH', 1);
  const arg = args[which]!;
  const service = arg.slice(0, arg.indexOf(':'));
  const c = await serviceContainer(ctx, g, service, index);
  const rewritten = [...args];
  rewritten[which] = `${c.Id}${arg.slice(service.length)}`;
  const opts = [...(flags.bool('archive') ? ['-a'] : []), ...(flags.bool('follow-link') ? ['-L'] : []), '-q'];
  return runCommand(cpCommand, ctx, [...opts, ...rewritten]);
}

async function run(ctx: Context, g: Global, argv: string[]): Promise<number> {
  // compose run [--rm] [-d] [-e K=V] [--no-deps] SERVICE [COMMAND…]: a one-off container of the service.
  let i = 0;
  let rmAfter = false;
  let detach = false;
  let noDeps = false;
  const env: Record<string, string> = {};
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    const a = argv[i]!;
    if (a === '--rm') rmAfter = true;
    else if (a === '-d' || a === '--detach') detach = true;
    else if (a === '--no-deps') noDeps = true;
    else if (a === '-T' || a === '--no-TTY') continue;
    else if (a === '-e' || a === '--env') {
      const kv = argv[++i] ?? '';
      env[kv.split('=')[0]!] = kv.split('=').slice(1).join('=');
    } else throw new CliError(`unknown flag: ${a}`, 1);
  }
  const service = argv[i];
  if (!service) throw new CliError('"compose run" requires at least 1 argument: SERVICE', 1);
  const project = load(ctx, g);
  checkServices(project, [service]);
  const svc = project.services[service]!;
  if (!noDeps && Object.keys(svc.dependsOn).length > 0) {
    await up(ctx, g, fakeFlags({ detach: true }), Object.keys(svc.dependsOn));
  }
  await ensureNetworks(ctx.client, project, (s) => ctx.err(`${s}\n`));
  await ensureVolumes(ctx.client, project, (s) => ctx.err(`${s}\n`));
  await ensureImage(ctx, project, svc, { build: false });
  const cmd = argv.slice(i + 1);
  const oneoff: Service = { ...svc, environment: { ...svc.environment, ...env }, ports: [], ...(cmd.length > 0 ? { command: cmd } : {}) };
  const n = Date.now() % 100000;
  const { body, extraNetworks } = createBody(project, oneoff, n, ctx.env, true);
  const name = `${project.name}-${service}-run-${Math.random().toString(16).slice(2, 14)}`;
  body.AttachStdout = true;
  body.AttachStderr = true;
  const created = await ctx.client.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body });
  for (const x of extraNetworks) await ctx.client.call('POST', `/networks/${seg(x.network)}/connect`, { body: { Container: created.Id, EndpointConfig: { Aliases: x.aliases } } });
  if (detach) {
    await ctx.client.call('POST', `/containers/${created.Id}/start`);
    ctx.out(`${name}\n`);
    return 0;
  }
  const waiting = ctx.client.json<{ StatusCode: number }>('POST', `/containers/${created.Id}/wait`, { query: { condition: 'next-exit' }, longLived: true });
  await ctx.client.call('POST', `/containers/${created.Id}/start`);
  await streamLogs(ctx.client, created.Id, '', (t) => ctx.out(t), { follow: true, tty: false });
  const { StatusCode } = await waiting;
  if (rmAfter) await ctx.client.call('DELETE', `/containers/${created.Id}`, { query: { force: '1' } });
  return StatusCode;
}

function fakeFlags(values: Record<string, boolean>): Flags {
  return { bool: (n: string) => values[n] ?? false, string: () => '', list: () => [], int: () => 0, changed: (n: string) => n in values } as unknown as Flags;
}

async function ls(ctx: Context, flags: Flags): Promise<number> {
  const all = await ctx.client.json<ContainerSummary[]>('GET', '/containers/json', { query: { all: '1', filters: JSON.stringify({ label: [L.project] }) } });
  const byProject = new Map<string, { running: number; exited: number; files: string }>();
  for (const c of all) {
    const p = c.Labels[L.project]!;
    const e = byProject.get(p) ?? { running: 0, exited: 0, files: c.Labels[L.configFiles] ?? '' };
    if (c.State === 'running') e.running++;
    else e.exited++;
    byProject.set(p, e);
  }
  let rows = [...byProject.entries()].sort(([a], [b]) => a.localeCompare(b));
  if (!flags.bool('all')) rows = rows.filter(([, e]) => e.running > 0);
  if (flags.bool('quiet')) {
    for (const [p] of rows) ctx.out(`${p}\n`);
    return 0;
  }
  const table = [['NAME', 'STATUS', 'CONFIG FILES'], ...rows.map(([p, e]) => [p, [e.running ? `running(${e.running})` : '', e.exited ? `exited(${e.exited})` : ''].filter(Boolean).join(', '), e.files])];
  ctx.out(columns(table));
  return 0;
}

type Sub = { flags: CommandSpec['flags']; usage: string; summary: string; raw?: boolean; run: (ctx: Context, g: Global, flags: Flags, args: string[]) => Promise<number> };

const SUBS: Record<string, Sub> = {
  up: {
    usage: '[OPTIONS] [SERVICE...]',
    summary: 'Create and start containers',
    flags: [
      { long: 'detach', short: 'd', type: 'bool', help: 'Detached mode: Run containers in the background' },
      { long: 'build', type: 'bool', help: 'Build images before starting containers' },
      { long: 'force-recreate', type: 'bool', help: "Recreate containers even if their configuration and image haven't changed" },
      { long: 'no-recreate', type: 'bool', help: "If containers already exist, don't recreate them" },
      { long: 'no-deps', type: 'bool', help: "Don't start linked services" },
      { long: 'remove-orphans', type: 'bool', help: 'Remove containers for services not defined in the Compose file' },
      { long: 'scale', type: 'list', help: 'Scale SERVICE to NUM instances' },
      { long: 'wait', type: 'bool', help: 'Wait for services to be running|healthy. Implies detached mode.' },
      { long: 'abort-on-container-exit', type: 'bool', help: 'Stops all containers if any container was stopped' },
      { long: 'pull', type: 'string', help: 'Pull image before running ("always"|"missing"|"never")' },
    ],
    run: (ctx, g, f, a) => up(ctx, g, f, a),
  },
  down: {
    usage: '[OPTIONS]',
    summary: 'Stop and remove containers, networks',
    flags: [
      { long: 'volumes', short: 'v', type: 'bool', help: 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers' },
      { long: 'rmi', type: 'string', help: 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")' },
      { long: 'remove-orphans', type: 'bool', help: 'Remove containers for services not defined in the Compose file' },
      { long: 'timeout', short: 't', type: 'int', help: 'Specify a shutdown timeout in seconds' },
    ],
    run: (ctx, g, f) => down(ctx, g, f),
  },
  ps: {
    usage: '[OPTIONS] [SERVICE...]',
    summary: 'List containers',
    flags: [
      { long: 'all', short: 'a', type: 'bool', help: 'Show all stopped containers' },
      { long: 'quiet', short: 'q', type: 'bool', help: 'Only display IDs' },
    ],
    run: (ctx, g, f, a) => ps(ctx, g, f, a),
  },
  logs: {
    usage: '[OPTIONS] [SERVICE...]',
    summary: 'View output from containers',
    flags: [
      { long: 'follow', short: 'f', type: 'bool', help: 'Follow log output' },
      { long: 'tail', short: 'n', type: 'string', help: 'Number of lines to show from the end of the logs for each container' },
      { long: 'timestamps', short: 't', type: 'bool', help: 'Show timestamps' },
      { long: 'no-color', type: 'bool', help: 'Produce monochrome output' },
      { long: 'no-log-prefix', type: 'bool', help: "Don't print prefix in logs" },
    ],
    run: (ctx, g, f, a) => logs(ctx, g, f, a),
  },
  config: {
    usage: '[OPTIONS]',
    summary: 'Parse, resolve and render compose file in canonical format',
    flags: [
      { long: 'services', type: 'bool', help: 'Print the service names, one per line' },
      { long: 'quiet', short: 'q', type: 'bool', help: 'Only validate the configuration, don\'t print anything' },
    ],
    run: async (ctx, g, f) => {
      const project = load(ctx, g);
      if (f.bool('quiet')) return 0;
      if (f.bool('services')) ctx.out(Object.keys(project.services).map((s) => `${s}\n`).join(''));
      else ctx.out(toYaml(project));
      return 0;
    },
  },
  build: {
    usage: '[OPTIONS] [SERVICE...]',
    summary: 'Build or rebuild services',
    flags: [],
    run: async (ctx, g, _f, a) => {
      const project = load(ctx, g);
      checkServices(project, a);
      for (const s of serviceOrder(project)) {
        const svc = project.services[s]!;
        if ((a.length === 0 || a.includes(s)) && svc.build) await buildService(ctx, project, svc, imageName(project, svc));
      }
      return 0;
    },
  },
  pull: {
    usage: '[OPTIONS] [SERVICE...]',
    summary: 'Pull service images',
    flags: [],
    run: async (ctx, g, _f, a) => {
      const project = load(ctx, g);
      checkServices(project, a);
      for (const s of serviceOrder(project)) {
        const svc = project.services[s]!;
        if ((a.length === 0 || a.includes(s)) && svc.image && !svc.build) await pullImage(ctx, svc.image);
      }
      return 0;
    },
  },
  exec: { usage: '[OPTIONS] SERVICE COMMAND [ARGS...]', summary: 'Execute a command in a running container', flags: [], raw: true, run: (ctx, g, _f, a) => exec(ctx, g, a) },
  run: { usage: '[OPTIONS] SERVICE [COMMAND] [ARGS...]', summary: 'Run a one-off command on a service', flags: [], raw: true, run: (ctx, g, _f, a) => run(ctx, g, a) },
  start: { usage: '[SERVICE...]', summary: 'Start services', flags: [], run: (ctx, g, f, a) => lifecycle(ctx, g, f, a, 'start') },
  stop: { usage: '[OPTIONS] [SERVICE...]', summary: 'Stop services', flags: [{ long: 'timeout', short: 't', type: 'int', help: 'Specify a shutdown timeout in seconds' }], run: (ctx, g, f, a) => lifecycle(ctx, g, f, a, 'stop') },
  restart: { usage: '[OPTIONS] [SERVICE...]', summary: 'Restart service containers', flags: [{ long: 'timeout', short: 't', type: 'int', help: 'Specify a shutdown timeout in seconds' }], run: (ctx, g, f, a) => lifecycle(ctx, g, f, a, 'restart') },
  kill: { usage: '[OPTIONS] [SERVICE...]', summary: 'Force stop service containers', flags: [{ long: 'signal', short: 's', type: 'string', help: 'SIGNAL to send to the container' }], run: (ctx, g, f, a) => lifecycle(ctx, g, f, a, 'kill') },
  pause: { usage: '[SERVICE...]', summary: 'Pause services', flags: [], run: (ctx, g, f, a) => lifecycle(ctx, g, f, a, 'pause') },
  unpause: { usage: '[SERVICE...]', summary: 'Unpause services', flags: [], run: (ctx, g, f, a) => lifecycle(ctx, g, f, a, 'unpause') },
  rm: {
    usage: '[OPTIONS] [SERVICE...]',
    summary: 'Removes stopped service containers',
    flags: [
      { long: 'force', short: 'f', type: 'bool', help: "Don't ask to confirm removal" },
      { long: 'stop', short: 's', type: 'bool', help: 'Stop the containers, if required, before removing' },
      { long: 'volumes', short: 'v', type: 'bool', help: 'Remove any anonymous volumes attached to containers' },
    ],
    run: (ctx, g, f, a) => rm(ctx, g, f, a),
  },
  port: {
    usage: '[OPTIONS] SERVICE PRIVATE_PORT',
    summary: 'Print the public port for a port binding',
    flags: [
      { long: 'protocol', type: 'string', help: 'tcp or udp (default "tcp")' },
      { long: 'index', type: 'int', help: 'Index of the container if service has multiple replicas' },
    ],
    run: async (ctx, g, f, a) => {
      const [service, priv] = a;
      if (!service || !priv) throw new CliError('"compose port" requires exactly 2 arguments: SERVICE PRIVATE_PORT', 1);
      const { name } = projectOf(ctx, g);
      const index = f.changed('index') ? f.int('index') : 1;
      const c = (await projectContainers(ctx.client, name, { oneoff: false })).find((x) => serviceOf(x) === service && x.Labels[L.number] === String(index));
      if (!c) throw new CliError(`no container found for ${service}_${index}`, 1);
      const proto = f.changed('protocol') ? f.string('protocol') : 'tcp';
      const p = c.Ports.find((x) => String(x.PrivatePort) === priv && x.Type === proto && x.PublicPort);
      if (!p) throw new CliError(`no port ${priv}/${proto} for container ${nameOf(c)}`, 1);
      ctx.out(`${p.IP && p.IP !== '' ? p.IP : '0.0.0.0'}:${p.PublicPort}\n`);
      return 0;
    },
  },
  images: {
    usage: '[OPTIONS] [SERVICE...]',
    summary: 'List images used by the created containers',
    flags: [{ long: 'quiet', short: 'q', type: 'bool', help: 'Only display IDs' }],
    run: async (ctx, g, f, a) => {
      const { name } = projectOf(ctx, g);
      const list = selected(await projectContainers(ctx.client, name, { oneoff: false }), a);
      const rows: string[][] = [['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE']];
      const ids = new Set<string>();
      for (const c of list) {
        const img = await ctx.client.json<{ Id: string; RepoTags: string[]; Size: number }>('GET', `/images/${seg(c.Image)}/json`).catch(() => undefined);
        if (!img) continue;
        ids.add(img.Id);
        const tag = img.RepoTags[0] ?? '<none>:<none>';
        const colon = tag.lastIndexOf(':');
        rows.push([nameOf(c), tag.slice(0, colon), tag.slice(colon + 1), img.Id.slice(7, 19), humanSize(img.Size)]);
      }
      if (f.bool('quiet')) {
        for (const id of ids) ctx.out(`${id}\n`);
        return 0;
      }
      ctx.out(columns(rows));
      return 0;
    },
  },
  top: {
    usage: '[SERVICES...]',
    summary: 'Display the running processes',
    flags: [],
    run: async (ctx, g, _f, a) => {
      const { name } = projectOf(ctx, g);
      for (const c of selected(await projectContainers(ctx.client, name, { oneoff: false }), a).filter((x) => x.State === 'running')) {
        const t = await ctx.client.json<{ Titles: string[]; Processes: string[][] }>('GET', `/containers/${c.Id}/top`);
        const rows = [t.Titles, ...t.Processes];
        ctx.out(`${nameOf(c)}\n${columns(rows)}`);
        ctx.out('\n');
      }
      return 0;
    },
  },
  wait: {
    usage: 'SERVICE [SERVICE...]',
    summary: 'Block until containers of all (or specified) services stop.',
    flags: [],
    run: async (ctx, g, _f, a) => {
      const { name } = projectOf(ctx, g);
      let code = 0;
      for (const c of selected(await projectContainers(ctx.client, name, { oneoff: false }), a)) {
        const r = await ctx.client.json<{ StatusCode: number }>('POST', `/containers/${c.Id}/wait`, { query: { condition: 'not-running' }, longLived: true });
        code = r.StatusCode;
      }
      ctx.out(`${code}\n`);
      return code;
    },
  },
  events: {
    usage: '[OPTIONS] [SERVICE...]',
    summary: 'Receive real time events from containers',
    flags: [{ long: 'json', type: 'bool', help: 'Output events as a stream of json objects' }],
    run: (ctx, g, f, a) => events(ctx, g, f, a),
  },
  push: {
    usage: '[OPTIONS] [SERVICE...]',
    summary: 'Push service images',
    flags: [
      { long: 'ignore-push-failures', type: 'bool', help: 'Push what it can and ignores images with push failures' },
      { long: 'quiet', short: 'q', type: 'bool', help: 'Push without printing progress information' },
    ],
    run: async (ctx, g, f, a) => {
      const project = load(ctx, g);
      checkServices(project, a);
      let code = 0;
      for (const s of serviceOrder(project)) {
        const svc = project.services[s]!;
        if ((a.length > 0 && !a.includes(s)) || !svc.image) continue;
        const r = await runCommand(pushCommand, ctx, [...(f.bool('quiet') ? ['-q'] : []), svc.image]);
        if (r !== 0 && !f.bool('ignore-push-failures')) return r;
        if (r !== 0) code = r;
      }
      return f.bool('ignore-push-failures') ? 0 : code;
    },
  },
  cp: {
    usage: '[OPTIONS] SERVICE:SRC_PATH DEST_PATH|-\n\tberth compose cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH',
    summary: 'Copy files/folders between a service container and the local filesystem',
    flags: [
      { long: 'index', type: 'int', help: 'Index of the container if service has multiple replicas' },
      { long: 'archive', short: 'a', type: 'bool', help: 'Archive mode (copy all uid/gid information)' },
      { long: 'follow-link', short: 'L', type: 'bool', help: 'Always follow symbol link in SRC_PATH' },
    ],
    run: (ctx, g, f, a) => {
      if (a.length !== 2) throw new CliError('"compose cp" requires exactly 2 arguments', 1);
      return cp(ctx, g, f, a);
    },
  },
  attach: {
    usage: '[OPTIONS] SERVICE',
    summary: "Attach local standard input, output, and error streams to a service's running container",
    flags: [
      { long: 'index', type: 'int', help: 'index of the container if service has multiple replicas' },
      { long: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching from a container' },
      { long: 'no-stdin', type: 'bool', help: 'Do not attach STDIN' },
      { long: 'sig-proxy', type: 'bool', default: true, help: 'Proxy all received signals to the process' },
    ],
    run: async (ctx, g, f, a) => {
      if (a.length !== 1) throw new CliError('"compose attach" requires exactly 1 argument: SERVICE', 1);
      const c = await serviceContainer(ctx, g, a[0]!, f.changed('index') ? f.int('index') : 1, { running: true });
      const opts = [...(f.changed('detach-keys') ? ['--detach-keys', f.string('detach-keys')] : []), ...(f.bool('no-stdin') ? ['--no-stdin'] : []), ...(f.bool('sig-proxy') ? [] : ['--sig-proxy=false'])];
      return runCommand(attachCommand, ctx, [...opts, c.Id]);
    },
  },
  version: {
    usage: '[OPTIONS]',
    summary: 'Show the Docker Compose version information',
    flags: [{ long: 'short', type: 'bool', help: 'Shows only Compose\'s version number' }],
    run: async (ctx, _g, f) => {
      ctx.out(f.bool('short') ? `${BERTH_VERSION}\n` : `berth compose version ${BERTH_VERSION}\n`);
      return 0;
    },
  },
  ls: {
    usage: '[OPTIONS]',
    summary: 'List running compose projects',
    flags: [
      { long: 'all', short: 'a', type: 'bool', help: 'Show all stopped Compose projects' },
      { long: 'quiet', short: 'q', type: 'bool', help: 'Only display IDs' },
    ],
    run: (ctx, _g, f) => ls(ctx, f),
  },
};

export const command: CommandSpec = {
  name: 'compose',
  usage: '[OPTIONS] COMMAND',
  summary: 'Define and run multi-container applications',
  flags: [
    { long: 'file', short: 'f', type: 'list', help: 'Compose configuration files' },
    { long: 'project-name', short: 'p', type: 'string', help: 'Project name' },
    { long: 'env-file', type: 'list', help: 'Specify an alternate environment file' },
    { long: 'profile', type: 'list', help: 'Specify a profile to enable' },
    { long: 'project-directory', type: 'string', help: 'Specify an alternate working directory (default: the path of the first specified Compose file)' },
  ],
  interspersed: false,
  async run(ctx, flags, args) {
    const subName = args[0];
    if (!subName) {
      ctx.out(`Usage:  berth compose [OPTIONS] COMMAND\n\nDefine and run multi-container applications\n\nCommands:\n${Object.entries(SUBS).map(([n, s]) => `  ${n.padEnd(10)}${s.summary}\n`).join('')}`);
      return 0;
    }
    const sub = SUBS[subName];
    if (!sub) throw new CliError(`unknown docker command: "compose ${subName}"`, 1);
    const g: Global = {
      files: flags.list('file').map((f) => resolve(f)),
      envFiles: flags.list('env-file').map((f) => resolve(f)),
      profiles: [...flags.list('profile'), ...(ctx.env.COMPOSE_PROFILES ? ctx.env.COMPOSE_PROFILES.split(',') : [])],
      cwd: flags.changed('project-directory') ? resolve(flags.string('project-directory')) : process.cwd(),
    };
    if (flags.changed('project-name')) g.projectName = flags.string('project-name');
    if (g.files.length === 0 && ctx.env.COMPOSE_FILE) g.files = ctx.env.COMPOSE_FILE.split(':').map((f) => resolve(f));
    const spec: CommandSpec = {
      name: `compose ${subName}`,
      usage: sub.usage,
      summary: sub.summary,
      flags: sub.flags,
      ...(sub.raw ? { runRaw: (c: Context, argv: string[]) => sub.run(c, g, fakeFlags({}), argv) } : {}),
      run: (c, f, a) => sub.run(c, g, f, a),
    };
    return runCommand(spec, ctx, args.slice(1));
  },
};

