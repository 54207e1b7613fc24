// Reads compose files into a `Project`: discovery, interpolation, include, extends, merging of
// several files, profiles, top-level networks and volumes, and the project's consistency checks.

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { invalidParameter } from '../core/errors.ts';
import { parseDotEnv } from './dotenv.ts';
import { COMPOSE_TAGS } from './tags.ts';
import { type Lookup, interpolateTree } from './interpolate.ts';
import { mergeMaps, mergeService } from './merge.ts';
import { checkCycles } from './order.ts';
import { type ServiceContext, prepareService, toService } from './service.ts';
import type { LoadOptions, NetworkSpec, Project, Service, VolumeSpec } from './types.ts';
import { type PathBase, hostPath } from './volumes.ts';
import {
  type At,
  type Raw,
  asBool,
  asList,
  asMap,
  asString,
  asStringMap,
  at,
  checkKeys,
  fail,
  isMap,
} from './values.ts';

export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

const TOP_KEYS = new Set(['version', 'name', 'include', 'services', 'networks', 'volumes', 'secrets', 'configs', 'models']);
const NETWORK_KEYS = new Set([
  'name', 'driver', 'driver_opts', 'ipam', 'external', 'internal', 'enable_ipv4', 'enable_ipv6', 'attachable', 'labels',
]);
const VOLUME_KEYS = new Set(['name', 'driver', 'driver_opts', 'external', 'labels']);
const FILE_KEYS = new Set(['name', 'file', 'environment', 'content', 'external', 'labels', 'template_driver']);

/** Top-level secrets or configs, their `file` made absolute against the declaring file. */
function fileSpecs(v: unknown, where: At, dir: string): Raw {
  const out = topLevel(v, FILE_KEYS, where);
  for (const [name, m] of Object.entries(out)) {
    const spec = m as Raw;
    if (typeof spec['file'] === 'string') spec['file'] = resolve(dir, spec['file'] as string);
    out[name] = spec;
  }
  return out;
}
const INCLUDE_KEYS = new Set(['path', 'project_directory', 'env_file']);
const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/u;
const SERVICE_NAME = /^[a-zA-Z0-9._-]+$/u;

interface Entry {
  raw: Raw;
  /** The file that first defined the service, for messages. */
  file: string;
}

interface Model {
  name?: string;
  services: Map<string, Entry>;
  networks: Raw;
  volumes: Raw;
  secrets: Raw;
  configs: Raw;
}

interface Loader {
  lookup: Lookup;
  home?: string;
  /** Files being loaded, to refuse include loops. */
  stack: string[];
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err: unknown) {
    const code = (err as { code?: string }).code;
    throw invalidParameter(`open ${file}: ${code === 'ENOENT' ? 'no such file or directory' : String(err)}`, err);
  }
  try {
    return parse(text, { merge: true, maxAliasCount: 1000, customTags: COMPOSE_TAGS });
  } catch (err: unknown) {
    throw invalidParameter(`yaml: ${file}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

function topLevel(v: unknown, keys: ReadonlySet<string>, where: At): Raw {
  const out: Raw = {};
  for (const [name, cfg] of Object.entries(asMap(v, where))) {
    const m = asMap(cfg, at(where, name));
    checkKeys(m, keys, at(where, name));
    out[name] = m;
  }
  return out;
}

/** Loads one file with its includes and its extends resolved; paths start at `dir`. */
function loadFile(file: string, dir: string, loader: Loader): Model {
  if (loader.stack.includes(file)) {
    throw invalidParameter(`include cycle detected: ${[...loader.stack, file].join(' -> ')}`);
  }
  const parsed = readYaml(file) ?? {};
  const root: At = { file, key: '(root)' };
  if (!isMap(parsed)) throw fail(root, 'must be a mapping');
  const doc = interpolateTree(parsed, loader.lookup) as Raw;
  checkKeys(doc, TOP_KEYS, root);
  const ctx: ServiceContext = loader.home === undefined ? { file, dir } : { file, dir, home: loader.home };
  const model: Model = {
    services: new Map(),
    networks: topLevel(doc['networks'], NETWORK_KEYS, { file, key: 'networks' }),
    volumes: topLevel(doc['volumes'], VOLUME_KEYS, { file, key: 'volumes' }),
    secrets: fileSpecs(doc['secrets'], { file, key: 'secrets' }, dirname(file)),
    configs: fileSpecs(doc['configs'], { file, key: 'configs' }, dirname(file)),
  };
  if (doc['name'] !== undefined && doc['name'] !== null) model.name = asString(doc['name'], { file, key: 'name' });
  for (const [name, value] of Object.entries(asMap(doc['services'], { file, key: 'services' }))) {
    if (!SERVICE_NAME.test(name)) throw fail({ file, key: 'services' }, `Additional property ${name} is not allowed`);
    model.services.set(name, { raw: prepareService(name, value, ctx), file });
  }
  const inner: Loader = { ...loader, stack: [...loader.stack, file] };
  const here: PathBase = loader.home === undefined ? { dir: dirname(file) } : { dir: dirname(file), home: loader.home };
  asList(doc['include'], { file, key: 'include' }).forEach((item, i) => {
    const where = { file, key: `include.${i}` };
    let paths: string[];
    let projectDir: string | undefined;
    if (typeof item === 'string') paths = [item];
    else {
      const m = asMap(item, where);
      checkKeys(m, INCLUDE_KEYS, where);
      paths = typeof m['path'] === 'string' ? [m['path']] : asList(m['path'], at(where, 'path')).map((p, j) => asString(p, at(where, `path.${j}`)));
      if (m['project_directory'] !== undefined) {
        projectDir = hostPath(asString(m['project_directory'], at(where, 'project_directory')), here);
      }
    }
    let included: Model | undefined;
    for (const p of paths) {
      const abs = hostPath(p, here);
      const m = loadFile(abs, projectDir ?? dirname(abs), inner);
      included = included === undefined ? m : mergeModels(included, m);
    }
    if (included === undefined) return;
    for (const [name, entry] of included.services) {
      if (model.services.has(name)) throw fail({ file, key: `services.${name}` }, 'conflicts with imported resource');
      model.services.set(name, entry);
    }
    for (const kind of ['networks', 'volumes'] as const) {
      for (const [name, cfg] of Object.entries(included[kind])) if (model[kind][name] === undefined) model[kind][name] = cfg;
    }
  });
  resolveExtends(model, file, inner);
  return model;
}

function resolveExtends(model: Model, file: string, loader: Loader): void {
  const done = new Set<string>();
  const visiting: string[] = [];
  const resolveOne = (name: string): void => {
    if (done.has(name)) return;
    const entry = model.services.get(name);
    if (entry === undefined) return;
    const ext = entry.raw['extends'] as Raw | undefined;
    if (ext === undefined) {
      done.add(name);
      return;
    }
    if (visiting.includes(name)) {
      throw invalidParameter(`circular reference with extends: ${[...visiting, name].join(' -> ')}`);
    }
    visiting.push(name);
    const baseName = ext['service'] as string;
    let base: Raw | undefined;
    const named = ext['file'] as string | undefined;
    const extFile = named === file ? undefined : named;
    if (extFile !== undefined) {
      base = loadFile(extFile, dirname(extFile), loader).services.get(baseName)?.raw;
    } else {
      resolveOne(baseName);
      base = model.services.get(baseName)?.raw;
    }
    if (base === undefined) {
      throw invalidParameter(
        `cannot extend service ${JSON.stringify(name)} in ${file}: service ${JSON.stringify(baseName)} not found${extFile === undefined ? '' : ` in ${extFile}`}`,
      );
    }
    const { extends: _, ...own } = entry.raw;
    model.services.set(name, { raw: mergeService(base, own), file: entry.file });
    visiting.pop();
    done.add(name);
  };
  for (const name of model.services.keys()) resolveOne(name);
}

function mergeModels(a: Model, b: Model): Model {
  const services = new Map(a.services);
  for (const [name, entry] of b.services) {
    const prev = services.get(name);
    services.set(name, prev === undefined ? entry : { raw: mergeService(prev.raw, entry.raw), file: prev.file });
  }
  const out: Model = { services, networks: mergeMaps(a.networks, b.networks), volumes: mergeMaps(a.volumes, b.volumes), secrets: mergeMaps(a.secrets, b.secrets), configs: mergeMaps(a.configs, b.configs) };
  const name = b.name ?? a.name;
  if (name !== undefined) out.name = name;
  return out;
}

/** Compose's normalization of a directory name into a project name. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/gu, '').replace(/^[^a-z0-9]+/u, '');
}

function projectName(opts: LoadOptions, vars: Record<string, string>, model: Model, workingDir: string): string {
  const explicit = opts.projectName ?? (vars['COMPOSE_PROJECT_NAME'] || undefined);
  if (explicit !== undefined) {
    if (!PROJECT_NAME.test(explicit)) {
      throw invalidParameter(
        `invalid project name ${JSON.stringify(explicit)}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`,
      );
    }
    return explicit;
  }
  const name = normalizeProjectName(model.name ?? basename(workingDir));
  if (name === '') throw invalidParameter('project name must not be empty');
  return name;
}

function discover(cwd: string): string {
  for (const f of DEFAULT_FILES) {
    const p = resolve(cwd, f);
    if (existsSync(p)) return p;
  }
  throw invalidParameter('no configuration file provided: not found');
}

function environment(opts: LoadOptions, cwd: string, workingDir: string): Record<string, string> {
  const given: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) given[k] = v;
  const fromFiles: Record<string, string> = {};
  const envFiles = opts.envFiles ?? [];
  const files = envFiles.length > 0 ? envFiles.map((f) => resolve(cwd, f)) : [resolve(workingDir, '.env')];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (err: unknown) {
      if (envFiles.length === 0) continue;
      throw invalidParameter(`couldn't read env file ${f}: ${err instanceof Error ? err.message : String(err)}`, err);
    }
    Object.assign(fromFiles, parseDotEnv(text, { lookup: (n) => given[n] ?? fromFiles[n], file: f }));
  }
  return { ...fromFiles, ...given };
}

function networkSpec(key: string, v: Raw, ctx: { project: string; file: string }): NetworkSpec {
  const project = ctx.project;
  const where: At = { file: ctx.file, key: `networks.${key}` };
  const ext = v['external'];
  const external = isMap(ext) ? true : ext === undefined ? false : asBool(ext, at(where, 'external'));
  const extName = isMap(ext) && ext['name'] !== undefined ? asString(ext['name'], at(where, 'external.name')) : undefined;
  const explicit = v['name'] === undefined ? extName : asString(v['name'], at(where, 'name'));
  const spec: NetworkSpec = {
    name: explicit ?? (external ? key : `${project}_${key}`),
    external,
    driver: v['driver'] === undefined ? 'bridge' : asString(v['driver'], at(where, 'driver')),
    internal: v['internal'] === undefined ? false : asBool(v['internal'], at(where, 'internal')),
    labels: asStringMap(v['labels'], at(where, 'labels')),
  };
  if (v['enable_ipv6'] !== undefined) spec.enableIpv6 = asBool(v['enable_ipv6'], at(where, 'enable_ipv6'));
  const ipam = asMap(v['ipam'], at(where, 'ipam'));
  const configs = asList(ipam['config'], at(where, 'ipam.config'));
  configs.forEach((c, i) => {
    if (!isMap(c)) return;
    const entry: { subnet?: string; gateway?: string; ipRange?: string } = {};
    if (c['subnet'] !== undefined) entry.subnet = asString(c['subnet'], at(where, `ipam.config.${i}.subnet`));
    if (c['gateway'] !== undefined) entry.gateway = asString(c['gateway'], at(where, `ipam.config.${i}.gateway`));
    if (c['ip_range'] !== undefined) entry.ipRange = asString(c['ip_range'], at(where, `ipam.config.${i}.ip_range`));
    (spec.ipam ??= []).push(entry);
  });
  return spec;
}

function volumeSpec(key: string, v: Raw, ctx: { project: string; file: string }): VolumeSpec {
  const project = ctx.project;
  const where: At = { file: ctx.file, key: `volumes.${key}` };
  const ext = v['external'];
  const external = isMap(ext) ? true : ext === undefined ? false : asBool(ext, at(where, 'external'));
  const extName = isMap(ext) && ext['name'] !== undefined ? asString(ext['name'], at(where, 'external.name')) : undefined;
  const explicit = v['name'] === undefined ? extName : asString(v['name'], at(where, 'name'));
  return {
    name: explicit ?? (external ? key : `${project}_${key}`),
    external,
    driver: v['driver'] === undefined ? 'local' : asString(v['driver'], at(where, 'driver')),
    driverOpts: asStringMap(v['driver_opts'], at(where, 'driver_opts')),
    labels: asStringMap(v['labels'], at(where, 'labels')),
  };
}

function activeProfiles(opts: LoadOptions, vars: Record<string, string>): Set<string> {
  const list = opts.profiles !== undefined && opts.profiles.length > 0 ? opts.profiles : (vars['COMPOSE_PROFILES'] ?? '').split(',');
  return new Set(list.map((p) => p.trim()).filter((p) => p !== ''));
}

const invalidProject = (message: string): Error => invalidParameter(`${message}: invalid compose project`);

/** Loads, merges and normalizes the compose files of a project. */
export function loadProject(opts: LoadOptions): Project {
  const cwd = resolve(opts.cwd);
  const files = opts.files.length > 0 ? opts.files.map((f) => resolve(cwd, f)) : [discover(cwd)];
  const workingDir = dirname(files[0] as string);
  const vars = environment(opts, cwd, workingDir);
  const home = vars['HOME'];
  const loader: Loader = { lookup: (name) => vars[name], stack: [], ...(home === undefined ? {} : { home }) };
  let model: Model | undefined;
  for (const f of files) {
    const m = loadFile(f, workingDir, loader);
    model = model === undefined ? m : mergeModels(model, m);
  }
  if (model === undefined) throw invalidParameter('no configuration file provided: not found');
  const name = projectName(opts, vars, model, workingDir);

  const all = new Map<string, Service>();
  for (const svcName of [...model.services.keys()].sort()) {
    const entry = model.services.get(svcName) as Entry;
    all.set(svcName, toService(svcName, entry.raw, { file: entry.file, lookup: loader.lookup }));
  }
  const profiles = activeProfiles(opts, vars);
  const enabled = (s: Service): boolean =>
    s.profiles.length === 0 || profiles.has('*') || s.profiles.some((p) => profiles.has(p));

  const project: Project = { name, workingDir, files, services: {}, disabled: {}, networks: {}, volumes: {} };
  for (const [svcName, svc] of all) {
    for (const [dep, cfg] of Object.entries(svc.dependsOn)) {
      const target = all.get(dep);
      if (target !== undefined && (enabled(target) || !enabled(svc))) continue;
      if (cfg.required && enabled(svc)) {
        throw invalidProject(`service ${JSON.stringify(svcName)} depends on undefined service ${JSON.stringify(dep)}`);
      }
      if (target === undefined || !cfg.required) delete svc.dependsOn[dep];
    }
    if (enabled(svc)) project.services[svcName] = svc;
    else project.disabled[svcName] = svc;
  }
  checkCycles(project.services);

  const netKeys = Object.keys(model.networks);
  const volKeys = Object.keys(model.volumes);
  for (const [svcName, svc] of all) {
    for (const n of Object.keys(svc.networks)) {
      if (n !== 'default' && !netKeys.includes(n)) throw invalidProject(`service ${JSON.stringify(svcName)} refers to undefined network ${n}`);
    }
    for (const v of svc.volumes) {
      if (v.type === 'volume' && v.source !== undefined && !volKeys.includes(v.source)) {
        throw invalidProject(`service ${JSON.stringify(svcName)} refers to undefined volume ${v.source}`);
      }
    }
  }
  const specCtx = { project: name, file: files[0] as string };
  for (const key of netKeys.sort()) {
    project.networks[key] = networkSpec(key, model.networks[key] as Raw, specCtx);
  }
  const usesDefault = Object.values(project.services).some((s) => s.networks['default'] !== undefined);
  if (usesDefault && project.networks['default'] === undefined) {
    project.networks['default'] = networkSpec('default', {}, specCtx);
  }
  for (const key of volKeys.sort()) {
    project.volumes[key] = volumeSpec(key, model.volumes[key] as Raw, specCtx);
  }
  for (const kind of ['secrets', 'configs'] as const) {
    const specs = model[kind];
    if (Object.keys(specs).length > 0) {
      project[kind] = {};
      for (const [k, raw] of Object.entries(specs)) {
        const r = raw as Raw;
        const spec: { file?: string; environment?: string; content?: string } = {};
        if (typeof r['file'] === 'string') spec.file = r['file'] as string;
        if (typeof r['environment'] === 'string') spec.environment = r['environment'] as string;
        if (typeof r['content'] === 'string') spec.content = r['content'] as string;
        project[kind]![k] = spec;
      }
    }
    for (const [svcName, svc] of all) {
      for (const m of svc[kind] ?? []) {
        if (specs[m.source] === undefined) throw invalidProject(`service ${JSON.stringify(svcName)} refers to undefined ${kind === 'secrets' ? 'secret' : 'config'} ${m.source}`);
      }
    }
  }
  return project;
}
