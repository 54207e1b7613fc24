// The builder behind POST /build (Docker's classic builder protocol): a tar context in, one image
// per step out, the last one tagged. RUN steps run in real containers and are committed as
// layers; COPY/ADD make layers from the context or another stage; the other instructions change
// the config only. A step is taken from the cache when its parent image, its instruction (with
// variables expanded) and, for COPY/ADD, the content it copies are the same as before.
import { chown, lstat, mkdir, readdir, rm, rmdir, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { closeSync, openSync, readSync, readdirSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { join, posix } from 'node:path';
import { randomBytes } from 'node:crypto';
import { invalidParameter, internal, notFound, notImplemented, BerthError } from '../../core/errors.ts';
import { sha256Digest, digestHex, isDigest } from '../../core/digest.ts';
import type { ImageConfigFile, ImageRuntimeConfig, ImageHistoryEntry } from '../../core/types.ts';
import { untarWithTar } from '../../adapters/tar/index.ts';
import { download, DownloadError, type Download } from '../../adapters/http/index.ts';
import { RootFs, fdPath } from '../../adapters/rootfs/index.ts';
import { readJson, writeJsonAtomic, ensureDir, directorySize } from '../../adapters/fs/index.ts';
import { nopText } from './history-text.ts';
import type { Mounter } from '../../core/ports.ts';
import { ociArchitecture, type ImageRecord, type ImageStore } from '../../stores/images.ts';
import type { ContainerService } from '../containers/service.ts';
import { readLogs } from '../logs/index.ts';
import {
  parseDockerfile,
  splitStages,
  decodeInstruction,
  expand,
  predefinedArgs,
  isProxyArg,
  compileIgnore,
  dockerignoreNameFor,
  type Instruction,
  type RawInstruction,
  DockerfileError,
} from '../../dockerfile/index.ts';
import { hasGlob, looksLikeArchive, matchComponent, rootSource, writeCopyLayer, type CopySource } from './copy.ts';
import { BuildContext } from './context.ts';
import { remoteContext } from './remote.ts';
import tar from 'tar-stream';
import type { Readable } from 'node:stream';

export interface BuildMessage {
  stream?: string;
  aux?: unknown;
  error?: string;
  errorDetail?: { code?: number; message: string };
}

export interface BuildOptions {
  context: NodeJS.ReadableStream;
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  target?: string;
  noCache: boolean;
  pull: boolean;
  quiet: boolean;
  /** Remove intermediate containers (always on success; on failure too with forceRm). */
  rm: boolean;
  forceRm: boolean;
  networkMode?: string;
  /** A remote context (Git repository, tar or Dockerfile URL) fetched by the daemon instead of `context`. */
  remote?: string;
  /** `--ssh` agent sockets by id (paths on the daemon's host), for `RUN --mount=type=ssh`. */
  ssh?: Map<string, string>;
  /** `--secret` values by id, for `RUN --mount=type=secret`; never written to a layer or to disk. */
  secrets?: Map<string, Buffer>;
  signal?: AbortSignal;
}

export interface BuilderDeps {
  images: ImageStore;
  containers: ContainerService;
  /** Read-only views of images (mount(8)). */
  mounts: Mounter;
  dataRoot: string;
  /** Where secrets are put for the RUN steps that mount them: memory-backed (under the exec root). */
  secretsDir: string;
  /** Bytes the cached steps' own layers may take; the least recently used go beyond it (0: no bound). */
  cacheMaxBytes?: number;
  /** Pulls an image that is not present (FROM of a registry image). */
  pull(ref: string, onStatus: (line: string) => void): Promise<void>;
}

interface StageState {
  name?: string;
  image: ImageRecord | undefined;
  config: ImageRuntimeConfig;
  history: ImageHistoryEntry[];
  /** ENV values, in order. */
  env: Map<string, string>;
  /** ARGs declared in this stage with their values. */
  args: Map<string, string>;
  shell: string[];
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];
/** Marks the containers a build runs its RUN steps in. */
const BUILD_LABEL = 'com.berth.build';
const MAX_DOCKERFILE = 4 * 1024 * 1024;
const MAX_DOWNLOAD = 1024 * 1024 * 1024;

function short(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** A RUN step that exited non-zero: Docker's wording, with the exit code. */
export class StepFailed extends BerthError {
  readonly code: number;
  constructor(message: string, code: number) {
    super('Internal', message);
    this.code = code;
  }
}

export class Builder {
  #d: BuilderDeps;
  /** Builds in flight. */
  #active = 0;

  constructor(deps: BuilderDeps) {
    this.#d = deps;
  }

  #cacheDir(): string {
    return join(this.#d.dataRoot, 'builder', 'cache');
  }

  async #cacheGet(key: string): Promise<ImageRecord | undefined> {
    const file = join(this.#cacheDir(), `${digestHex(key)}.json`);
    const v = await readJson<{ image?: unknown }>(file).catch(() => undefined);
    if (typeof v?.image !== 'string' || !isDigest(v.image)) return undefined;
    const img = this.#d.images.resolve(v.image);
    // The entry's mtime is its last use, for the bound's least-recently-used order.
    if (img) await utimes(file, new Date(), new Date()).catch(() => {});
    return img;
  }

  /** Cached steps: entry file, image, last use, and the size of the layer the step added. */
  async #cacheEntries(): Promise<Array<{ file: string; image: ImageRecord | undefined; used: number; size: number }>> {
    const layerSize = new Map(this.#d.images.layers.list().map((l) => [l.chainId, l.size]));
    const out: Array<{ file: string; image: ImageRecord | undefined; used: number; size: number }> = [];
    for (const name of await readdir(this.#cacheDir()).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      const file = join(this.#cacheDir(), name);
      const v = await readJson<{ image?: unknown }>(file).catch(() => undefined);
      const st = await stat(file).catch(() => undefined);
      const image = typeof v?.image === 'string' && isDigest(v.image) ? this.#d.images.resolve(v.image) : undefined;
      const top = image?.chainIds.at(-1);
      const own = image && top !== undefined && top !== this.#d.images.resolve(image.parent ?? '')?.chainIds.at(-1) ? (layerSize.get(top) ?? 0) : 0;
      out.push({ file, image, used: st?.mtimeMs ?? 0, size: own });
    }
    return out;
  }

  /** An image a cache entry may take with it: untagged, no child image, no container. */
  #evictable(img: ImageRecord): boolean {
    const images = this.#d.images;
    return images.resolve(img.id) !== undefined && images.tagsOf(img.id).length === 0 && images.digestsOf(img.id).length === 0 && !images.list().some((r) => r.parent === img.id) && this.#d.containers.usesImage(img.id) === undefined;
  }

  /** Forgets an entry; its image goes too when nothing else holds it. Returns the bytes freed. */
  async #evict(e: { file: string; image: ImageRecord | undefined; size: number }): Promise<number> {
    await rm(e.file, { force: true });
    // An image may have gone with a child evicted before it.
    if (!e.image || this.#d.images.resolve(e.image.id) === undefined || !this.#evictable(e.image)) return 0;
    const items = await this.#d.images.remove(e.image.id, { force: false, noPrune: true, usedBy: (id) => this.#d.containers.usesImage(id) !== undefined }).catch(() => []);
    return items.some((i) => i.Deleted === e.image!.id) ? e.size : 0;
  }

  /**
   * Keeps the cached steps' layers under the bound, dropping the least recently used first. A
   * step's image is taken with its entry once nothing else holds it; its parent steps (older
   * entries of the same build) follow while the cache is still over the bound.
   */
  async #enforceCacheBound(): Promise<void> {
    const max = this.#d.cacheMaxBytes ?? 0;
    if (max <= 0) return;
    const entries = await this.#cacheEntries();
    let total = entries.reduce((n, e) => n + e.size, 0);
    if (total <= max) return;
    const byImage = new Map(entries.filter((e) => e.image).map((e) => [e.image!.id, e]));
    const gone = new Set<string>();
    for (const e of entries.sort((a, b) => a.used - b.used)) {
      if (total <= max) return;
      if (gone.has(e.file) || (e.image !== undefined && !this.#evictable(e.image))) continue;
      let cur: typeof e | undefined = e;
      while (cur && total > max && !gone.has(cur.file) && (cur.image === undefined || this.#evictable(cur.image))) {
        gone.add(cur.file);
        total -= await this.#evict(cur);
        cur = cur.image?.parent !== undefined ? byImage.get(cur.image.parent) : undefined;
      }
    }
  }

  async #cachePut(key: string, image: string): Promise<void> {
    await ensureDir(this.#cacheDir());
    await writeJsonAtomic(join(this.#cacheDir(), `${digestHex(key)}.json`), { image, created: new Date().toISOString() });
  }

  /** Removes the containers of builds a crash interrupted (no build outlives its daemon). */
  async removeLeftovers(): Promise<number> {
    let n = 0;
    for (const rec of this.#d.containers.list()) {
      if (rec.Config.Labels?.[BUILD_LABEL] === undefined) continue;
      await this.#d.containers.remove(rec.Id, { force: true }).then(() => n++, () => {});
    }
    return n;
  }

  /** The build cache as GET /system/df lists it: cached steps and cache mounts. */
  async usage(): Promise<Array<Record<string, unknown>>> {
    const out: Array<Record<string, unknown>> = [];
    for (const e of await this.#cacheEntries()) {
      const when = new Date(e.used).toISOString();
      const created = e.image?.config.created ?? when;
      out.push({ ID: e.file.split('/').at(-1)!.slice(0, 12), Type: 'regular', Description: 'cached build step', Size: e.size, InUse: e.image !== undefined && !this.#evictable(e.image), Shared: true, CreatedAt: created, LastUsedAt: when, UsageCount: 1 });
    }
    const mounts = join(this.#d.dataRoot, 'builder', 'cache-mounts');
    for (const name of await readdir(mounts).catch(() => [] as string[])) {
      const size = await directorySize(join(mounts, name)).catch(() => 0);
      const st = await stat(join(mounts, name)).catch(() => undefined);
      const when = st?.mtime.toISOString() ?? new Date(0).toISOString();
      out.push({ ID: name.slice(0, 12), Type: 'exec.cachemount', Description: 'cache mount', Size: size, InUse: false, Shared: false, CreatedAt: when, LastUsedAt: when, UsageCount: 1 });
    }
    return out;
  }

  /** Forgets cached steps (and with all, the RUN --mount=type=cache directories). */
  async prune(opts: { all: boolean }): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }> {
    const deleted: string[] = [];
    let space = 0;
    // Children before parents, so an intermediate image goes once the step built on it went.
    const entries = (await this.#cacheEntries()).sort((a, b) => (b.image?.chainIds.length ?? 0) - (a.image?.chainIds.length ?? 0));
    for (const e of entries) {
      // While a build runs its untagged images stay; the entries go either way.
      if (this.#active > 0) await rm(e.file, { force: true });
      else space += await this.#evict(e);
      deleted.push(`sha256:${e.file.split('/').at(-1)!.slice(0, -5)}`);
    }
    if (opts.all) {
      const mounts = join(this.#d.dataRoot, 'builder', 'cache-mounts');
      for (const name of await readdir(mounts).catch(() => [] as string[])) {
        space += await directorySize(join(mounts, name)).catch(() => 0);
        await rm(join(mounts, name), { recursive: true, force: true });
        deleted.push(name);
      }
    }
    return { CachesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: space };
  }

  /** Runs a build; progress goes to out. Returns the final image ID. */
  async build(opts: BuildOptions, out: (m: BuildMessage) => void): Promise<string> {
    const say = (s: string): void => {
      if (!opts.quiet) out({ stream: s });
    };
    const tmpRoot = join(this.#d.dataRoot, 'tmp');
    await mkdir(tmpRoot, { recursive: true, mode: 0o700 });
    const work = join(tmpRoot, `build-${randomBytes(8).toString('hex')}`);
    this.#active++;
    await mkdir(work, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
      this.#active--;
      throw err;
    });
    const containers: string[] = [];
    let contextToClose: BuildContext | undefined;
    try {
      let input = opts.context;
      let dockerfileName = opts.dockerfile;
      if (opts.remote) {
        say(`Fetching the build context from ${opts.remote}\n`);
        const rc = await remoteContext(opts.remote, work, opts.signal ? { signal: opts.signal } : {});
        input = rc.stream;
        if (rc.dockerfile) dockerfileName = rc.dockerfile;
      }
      const context = await BuildContext.load(input, join(work, 'context.tar'), opts.signal ? { signal: opts.signal } : {});
      contextToClose = context;
      const ctxTree = contextTree(context);
      const dfPath = cleanContextPath(dockerfileName || 'Dockerfile');
      let text: string;
      try {
        text = context.readSmall(dfPath, MAX_DOCKERFILE);
      } catch (err) {
        if ((err as BerthError).kind === 'NotFound') throw invalidParameter(`Cannot locate specified Dockerfile: ${opts.dockerfile || 'Dockerfile'}`);
        throw err;
      }
      const tryRead = (p: string): string | undefined => {
        try {
          return context.readSmall(p, 1 << 20);
        } catch {
          return undefined;
        }
      };
      const ignoreText = tryRead(dockerignoreNameFor(dfPath)) ?? tryRead('.dockerignore') ?? '';
      const ignore = compileIgnore(ignoreText);
      const parsed = parseDockerfile(text, { name: dfPath });
      for (const w of parsed.warnings) say(`[WARNING]: ${w}\n`);
      const { metaArgs, stages } = splitStages(parsed);
      const escape = parsed.directives.escape;
      const platform = { os: 'linux', architecture: ociArchitecture() };

      // Build args: declared ones take the given value; the rest are reported unused at the end.
      const given = new Map(Object.entries(opts.buildArgs).filter((e): e is [string, string] => typeof e[1] === 'string'));
      const used = new Set<string>();
      const meta = new Map<string, string>(predefinedArgs(platform));
      for (const raw of metaArgs) {
        const ins = decodeInstruction(raw, meta, { escape, platform });
        if (ins.kind !== 'ARG') continue;
        for (const a of ins.args) {
          const v = given.has(a.name) ? given.get(a.name)! : a.default;
          if (given.has(a.name)) used.add(a.name);
          if (v !== undefined) meta.set(a.name, v);
        }
      }

      // Stages the target needs: FROM <stage> and COPY --from=<stage>, found by name or index.
      const decodedFroms = stages.map((s) => decodeInstruction(s.from, meta, { escape, platform }) as Extract<Instruction, { kind: 'FROM' }>);
      const stageIndex = (ref: string): number | undefined => {
        const byName = decodedFroms.findIndex((f) => f.stageName !== undefined && f.stageName === ref.toLowerCase());
        if (byName >= 0) return byName;
        return /^\d+$/.test(ref) && Number(ref) < stages.length ? Number(ref) : undefined;
      };
      let targetIndex = stages.length - 1;
      if (opts.target) {
        const t = stageIndex(opts.target);
        if (t === undefined) throw invalidParameter(`failed to reach build target ${opts.target} in Dockerfile`);
        targetIndex = t;
      }
      const needed = new Set<number>();
      const deps = new Map<number, Set<number>>();
      const visit = (i: number): void => {
        if (needed.has(i)) return;
        needed.add(i);
        const mine = new Set<number>();
        deps.set(i, mine);
        const from = stageIndex(decodedFroms[i]!.image);
        if (from !== undefined && from < i) {
          mine.add(from);
          visit(from);
        }
        for (const raw of stages[i]!.body) {
          // COPY --from=<stage> and RUN --mount=...,from=<stage>
          const refs: string[] = [];
          if (raw.keyword === 'COPY') refs.push(...raw.flags.filter((x) => x.name === 'from').map((x) => x.value ?? ''));
          if (raw.keyword === 'RUN') {
            for (const m of raw.flags.filter((x) => x.name === 'mount')) {
              const from = /(?:^|,)\s*from=([^,]*)/.exec(m.value ?? '')?.[1];
              if (from) refs.push(from.replace(/^"|"$/g, ''));
            }
          }
          for (const f of refs) {
            const j = stageIndex(f);
            if (j !== undefined && j < i) {
              mine.add(j);
              visit(j);
            }
          }
        }
      };
      visit(targetIndex);

      const totalSteps = stages.filter((_, i) => needed.has(i)).reduce((n, s) => n + 1 + s.body.length, 0) + metaArgs.length;
      const stepText = (n: number, raw: RawInstruction): string => `Step ${n}/${totalSteps} : ${raw.original.replace(/\s*\n\s*/g, ' ')}\n`;
      metaArgs.forEach((raw, k) => say(stepText(k + 1, raw)));

      // Stages run side by side as soon as the stages they use are built. Their output is shown
      // in Dockerfile order, as a one-stage-at-a-time build prints it: the earliest unfinished
      // stage's live, the others' held until their turn.
      const order = [...needed].sort((a, b) => a - b);
      const firstStep = new Map<number, number>();
      let nextStep = metaArgs.length + 1;
      for (const i of order) {
        firstStep.set(i, nextStep);
        nextStep += 1 + stages[i]!.body.length;
      }
      const held = new Map<number, string[]>(order.map((i) => [i, []]));
      const finished = new Set<number>();
      let shown = 0;
      const sayFor = (i: number) => (text: string): void => {
        if (i === order[shown]) say(text);
        else held.get(i)!.push(text);
      };
      const flushFinished = (): void => {
        while (shown < order.length && finished.has(order[shown]!)) {
          shown++;
          const next = order[shown];
          if (next !== undefined) for (const t of held.get(next)!.splice(0)) say(t);
        }
      };
      const flushAll = (): void => {
        for (const i of order.slice(shown + 1)) for (const t of held.get(i)!.splice(0)) say(t);
      };

      const results: Array<ImageRecord | undefined> = new Array(stages.length).fill(undefined);
      const rootsToClose: Array<() => Promise<void>> = [];
      const stop = new AbortController();
      const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
      const stageOpts: BuildOptions = { ...opts, signal };
      const built = new Map<number, Promise<void>>();
      const buildStage = async (i: number): Promise<void> => {
        await Promise.all([...deps.get(i)!].map((j) => built.get(j)));
        signal.throwIfAborted();
        const sayHere = sayFor(i);
        let step = firstStep.get(i)!;
        const stage = stages[i]!;
        const from = decodedFroms[i]!;
        sayHere(stepText(step++, stage.from));
        const st = await this.#startStage(from, stageIndex, results, stageOpts, sayHere);
        // The base image's ONBUILD triggers run first, then are dropped from the new image.
        const triggers = st.config.OnBuild ?? [];
        const body: RawInstruction[] = [];
        if (triggers.length > 0) {
          st.config.OnBuild = null;
          sayHere(`# Executing ${triggers.length} build trigger${triggers.length === 1 ? '' : 's'}\n`);
          for (const t of triggers) body.push(...parseDockerfile(`FROM scratch\n${t}\n`).instructions.slice(1));
        }
        const fromTriggers = body.length;
        body.push(...stage.body);
        for (const [n, raw] of body.entries()) {
          signal.throwIfAborted();
          if (n >= fromTriggers) sayHere(stepText(step++, raw));
          const env = new Map([...st.args, ...st.env]);
          const ins = decodeInstruction(raw, env, { escape, platform });
          await this.#step(st, ins, {
            opts: stageOpts,
            say: sayHere,
            given,
            used,
            meta,
            ctxTree,
            ignore: (p) => ignore.ignores(p),
            stageRoot: async (ref) => {
              const j = stageIndex(ref);
              let img: ImageRecord | undefined;
              if (j !== undefined) {
                if (j >= i) throw invalidParameter(`COPY --from=${ref}: a stage cannot copy from itself or a later stage`);
                await built.get(j);
                img = results[j];
              } else {
                img = await this.#baseImage(ref, stageOpts, sayHere);
              }
              if (img === undefined) throw invalidParameter(`invalid from flag value ${ref}`);
              const mounted = await this.#mountImage(img, work);
              rootsToClose.push(mounted.release);
              return mounted.root;
            },
            work,
            containers,
          });
        }
        // A stage with no filesystem step is still an image (its config may have changed).
        results[i] = await this.#finishStage(st);
        finished.add(i);
        flushFinished();
      };
      try {
        for (const i of order) {
          const p = buildStage(i);
          built.set(i, p);
          // The first failure stops the other stages.
          p.catch(() => stop.abort(new Error('another stage failed')));
        }
        const settled = await Promise.allSettled(built.values());
        const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !(stop.signal.aborted && r.reason === stop.signal.reason));
        if (failed) {
          flushAll();
          throw failed.reason;
        }
        const other = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (other) throw other.reason;
      } finally {
        for (const r of rootsToClose) await r().catch(() => {});
      }
      let final = results[targetIndex]!;
      const unused = [...given.keys()].filter((k) => !used.has(k) && !isProxyArg(k));
      if (unused.length > 0) say(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
      if (Object.keys(opts.labels).length > 0) {
        final = await this.#commitConfig(final, { ...final.config.config, Labels: { ...(final.config.config?.Labels ?? {}), ...opts.labels } }, undefined);
      }
      out({ aux: { ID: final.id } });
      if (opts.quiet) out({ stream: `${final.id}\n` });
      else say(`Successfully built ${short(final.id)}\n`);
      for (const t of opts.tags) {
        await this.#d.images.tag(final.id, t);
        say(`Successfully tagged ${t}\n`);
      }
      return final.id;
    } catch (err) {
      if (err instanceof DockerfileError && err.line !== undefined && !/line \d+/.test(err.message)) {
        throw new BerthError('InvalidParameter', `dockerfile parse error on line ${err.line}: ${err.message}`);
      }
      throw err;
    } finally {
      contextToClose?.close();
      if (opts.rm || opts.forceRm) {
        for (const id of containers) await this.#d.containers.remove(id, { force: true }).catch(() => {});
      }
      await rm(work, { recursive: true, force: true }).catch(() => {});
      // Only between builds: a build in flight holds untagged images the bound would take.
      if (--this.#active === 0) await this.#enforceCacheBound().catch(() => {});
    }
  }

  async #baseImage(ref: string, opts: BuildOptions, say: (s: string) => void): Promise<ImageRecord> {
    if (ref === 'scratch') throw invalidParameter('scratch is not an image');
    let img = opts.pull ? undefined : this.#d.images.resolve(ref);
    if (img === undefined) {
      await this.#d.pull(ref, (line) => say(`${line}\n`));
      img = this.#d.images.resolve(ref);
      if (img === undefined) throw notFound(`pull access denied for ${ref}, repository does not exist or may require 'docker login'`);
    }
    return img;
  }

  async #startStage(
    from: Extract<Instruction, { kind: 'FROM' }>,
    stageIndex: (ref: string) => number | undefined,
    results: Array<ImageRecord | undefined>,
    opts: BuildOptions,
    say: (s: string) => void,
  ): Promise<StageState> {
    let image: ImageRecord | undefined;
    if (from.image.toLowerCase() !== 'scratch') {
      const j = stageIndex(from.image);
      image = j !== undefined ? results[j] : await this.#baseImage(from.image, opts, say);
      if (image === undefined) throw invalidParameter(`base name (${from.image}) should not be blank`);
      say(` ---> ${short(image.id)}\n`);
    } else {
      say(' ---> \n');
    }
    const config: ImageRuntimeConfig = structuredClone(image?.config.config ?? {});
    const env = new Map<string, string>();
    for (const e of config.Env ?? []) {
      const eq = e.indexOf('=');
      if (eq > 0) env.set(e.slice(0, eq), e.slice(eq + 1));
    }
    const st: StageState = { image, config, history: [...(image?.config.history ?? [])], env, args: new Map(), shell: config.Shell ?? DEFAULT_SHELL };
    if (from.stageName !== undefined) st.name = from.stageName;
    return st;
  }

  async #finishStage(st: StageState): Promise<ImageRecord> {
    if (st.image !== undefined) return st.image;
    // FROM scratch with only config steps: an image with no layers.
    return this.#d.images.createImage({ layerTars: [], config: { created: new Date().toISOString(), config: st.config, history: st.history } });
  }

  /** A new image with the same layers as parent and a new config (a config-only step). */
  async #commitConfig(parent: ImageRecord, config: ImageRuntimeConfig, createdBy: string | undefined, history?: ImageHistoryEntry[], author?: string): Promise<ImageRecord> {
    const { rootfs: _r, ...rest } = parent.config;
    if (author !== undefined) rest.author = author;
    const created = new Date().toISOString();
    const hist = history ?? [...(parent.config.history ?? [])];
    if (createdBy !== undefined) hist.push({ created, created_by: createdBy, empty_layer: true });
    return this.#d.images.createImage({ layerTars: [], parent: parent.id, config: { ...rest, created, config, history: hist } });
  }

  async #step(st: StageState, ins: Instruction, ctx: StepContext): Promise<void> {
    const { say } = ctx;
    switch (ins.kind) {
      case 'RUN':
        await this.#run(st, ins, ctx);
        return;
      case 'COPY':
      case 'ADD':
        await this.#copy(st, ins, ctx);
        return;
      case 'ARG': {
        for (const a of ins.args) {
          let v: string | undefined;
          if (ctx.given.has(a.name)) {
            v = ctx.given.get(a.name)!;
            ctx.used.add(a.name);
          } else if (a.default !== undefined) v = a.default;
          else v = ctx.meta.get(a.name);
          if (v !== undefined) st.args.set(a.name, v);
          else st.args.delete(a.name);
        }
        await this.#configStep(st, nopText(ins), ctx);
        return;
      }
      case 'ENV': {
        const envList = [...(st.config.Env ?? [])];
        for (const [k, v] of ins.pairs) {
          st.env.set(k, v);
          const i = envList.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) envList[i] = `${k}=${v}`;
          else envList.push(`${k}=${v}`);
        }
        st.config.Env = envList;
        break;
      }
      case 'LABEL':
        st.config.Labels = { ...(st.config.Labels ?? {}), ...Object.fromEntries(ins.pairs) };
        break;
      case 'CMD':
        st.config.Cmd = ins.shell ? [...st.shell, ins.command.join(' ')] : ins.command;
        break;
      case 'ENTRYPOINT':
        st.config.Entrypoint = ins.shell ? [...st.shell, ins.command.join(' ')] : ins.command;
        // An ENTRYPOINT resets a CMD inherited from the base image, as Docker does.
        if (st.config.Cmd !== undefined && st.image?.config.config?.Cmd === st.config.Cmd) st.config.Cmd = null;
        break;
      case 'WORKDIR': {
        const dir = posix.isAbsolute(ins.path) ? ins.path : posix.join(st.config.WorkingDir || '/', ins.path);
        st.config.WorkingDir = posix.normalize(dir);
        break;
      }
      case 'USER':
        st.config.User = ins.user;
        break;
      case 'EXPOSE': {
        const ports = { ...(st.config.ExposedPorts ?? {}) };
        for (const p of ins.ports) {
          const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
          if (!m) throw invalidParameter(`invalid containerPort: ${p}`);
          const lo = Number(m[1]);
          const hi = m[2] !== undefined ? Number(m[2]) : lo;
          for (let n = lo; n <= hi; n++) ports[`${n}/${(m[3] ?? 'tcp').toLowerCase()}`] = {};
        }
        st.config.ExposedPorts = ports;
        break;
      }
      case 'VOLUME':
        st.config.Volumes = { ...(st.config.Volumes ?? {}), ...Object.fromEntries(ins.paths.map((p) => [p, {}])) };
        break;
      case 'STOPSIGNAL':
        st.config.StopSignal = ins.signal;
        break;
      case 'HEALTHCHECK': {
        const h = ins.healthcheck;
        st.config.Healthcheck = {
          Test: h.test,
          ...(h.intervalNs !== undefined ? { Interval: h.intervalNs } : {}),
          ...(h.timeoutNs !== undefined ? { Timeout: h.timeoutNs } : {}),
          ...(h.startPeriodNs !== undefined ? { StartPeriod: h.startPeriodNs } : {}),
          ...(h.retries !== undefined ? { Retries: h.retries } : {}),
        };
        break;
      }
      case 'SHELL':
        st.shell = ins.shell;
        st.config.Shell = ins.shell;
        break;
      case 'ONBUILD':
        st.config.OnBuild = [...(st.config.OnBuild ?? []), ins.expression];
        break;
      case 'MAINTAINER':
        say('[WARNING]: MAINTAINER is deprecated, use LABEL maintainer=… instead\n');
        await this.#configStep(st, nopText(ins), ctx, { author: ins.name });
        return;
      case 'FROM':
        throw internal('FROM inside a stage');
    }
    const resolved = ins.kind === 'CMD' ? { command: st.config.Cmd ?? [] } : ins.kind === 'ENTRYPOINT' ? { command: st.config.Entrypoint ?? [] } : ins.kind === 'WORKDIR' ? { workdir: st.config.WorkingDir ?? ins.path } : {};
    await this.#configStep(st, nopText(ins, resolved), ctx);
  }

  /** A config-only step: cached by (parent, instruction, resulting config). */
  async #configStep(st: StageState, text: string, ctx: StepContext, extra: { author?: string } = {}): Promise<void> {
    const createdBy = `/bin/sh -c #(nop) ${text}`;
    if (st.image === undefined) {
      st.history.push({ created: new Date().toISOString(), created_by: createdBy, empty_layer: true });
      ctx.say(' ---> Running in scratch\n');
      return;
    }
    const key = sha256Digest(JSON.stringify({ parent: st.image.id, op: createdBy, config: st.config }));
    const hit = ctx.opts.noCache ? undefined : await this.#cacheGet(key);
    if (hit !== undefined) {
      ctx.say(` ---> Using cache\n ---> ${short(hit.id)}\n`);
      this.#adopt(st, hit);
      return;
    }
    const img = await this.#commitConfig(st.image, st.config, createdBy, st.history, extra.author);
    await this.#cachePut(key, img.id);
    ctx.say(` ---> ${short(img.id)}\n`);
    this.#adopt(st, img);
  }

  #adopt(st: StageState, img: ImageRecord): void {
    st.image = img;
    st.config = structuredClone(img.config.config ?? {});
    st.history = [...(img.config.history ?? [])];
  }

  async #run(st: StageState, ins: Extract<Instruction, { kind: 'RUN' }>, ctx: StepContext): Promise<void> {
    if (st.image === undefined) throw invalidParameter('RUN in a stage FROM scratch needs a shell: copy one in first');
    let argv = ins.shell ? [...st.shell, ins.command.join(' ')] : ins.command;
    if (ins.heredocs.length > 0 && ins.shell) {
      // `RUN <<EOF` runs the heredoc as a script; `RUN cmd <<EOF` feeds it on stdin via the shell.
      const h = ins.heredocs[0]!;
      const line = ins.command.join(' ').trim();
      argv = line === `<<${h.name}` || line === `<<-${h.name}` || line === '' ? [...st.shell, h.content] : [...st.shell, `${line}\n${h.content}${h.name}\n`];
    }
    const argsEnv = [...st.args].filter(([k]) => !st.env.has(k)).map(([k, v]) => `${k}=${v}`);
    const createdBy = argsEnv.length > 0 ? `|${argsEnv.length} ${argsEnv.join(' ')} ${argv.join(' ')}` : argv.join(' ');
    const prepared = await this.#runMounts(ins.mounts, st, ctx);
    try {
      const key = sha256Digest(JSON.stringify({ parent: st.image.id, op: createdBy, config: st.config, network: ins.network ?? ctx.opts.networkMode ?? '', ...(prepared.key.length > 0 ? { mounts: prepared.key } : {}) }));
      const hit = ctx.opts.noCache ? undefined : await this.#cacheGet(key);
      if (hit !== undefined) {
        ctx.say(` ---> Using cache\n ---> ${short(hit.id)}\n`);
        this.#adopt(st, hit);
        return;
      }
      await this.#runContainer(st, st.image, argv, argsEnv, createdBy, key, ins.network, prepared, ctx);
    } finally {
      await prepared.release();
    }
  }

  /**
   * The mounts of a RUN step: cache directories kept between builds, tmpfs, secrets (files in
   * memory, mounted read-only, never in a layer) and bind mounts of the context or another
   * stage (copied, so a `rw` mount's writes are discarded). `key` is what the step's cache key
   * takes from them: for binds the content, for secrets only their names — never their values.
   */
  async #runMounts(list: Extract<Instruction, { kind: 'RUN' }>['mounts'], st: StageState, ctx: StepContext): Promise<{ mounts: unknown[]; key: unknown[]; targets: string[]; env: string[]; release: () => Promise<void> }> {
    const mounts: unknown[] = [];
    const key: unknown[] = [];
    const targets: string[] = [];
    const temps: string[] = [];
    const env: string[] = [];
    let sshCount = 0;
    const workdir = st.config.WorkingDir || '/';
    try {
      for (const m of list) {
        const target = m.target === '' ? '' : posix.resolve(workdir, m.target);
        if (m.type === 'cache') {
          const id = sha256Digest(m.id ?? m.target).slice(7, 31);
          const dir = join(this.#d.dataRoot, 'builder', 'cache-mounts', id);
          await mkdir(dir, { recursive: true, mode: 0o755 });
          mounts.push({ Type: 'bind', Source: dir, Target: target, ReadOnly: m.readonly });
          key.push({ type: 'cache', id: m.id ?? m.target, target, ro: m.readonly });
        } else if (m.type === 'tmpfs') {
          mounts.push({ Type: 'tmpfs', Target: target, ...(m.size !== undefined ? { TmpfsOptions: { SizeBytes: m.size } } : {}) });
          key.push({ type: 'tmpfs', target, size: m.size ?? 0 });
        } else if (m.type === 'secret') {
          const id = m.id!;
          const value = ctx.opts.secrets?.get(id);
          if (value === undefined) {
            if (m.required) throw invalidParameter(`secret ${id}: not found`);
            continue;
          }
          if (m.env !== undefined) {
            if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(m.env)) throw invalidParameter(`invalid secret env name ${JSON.stringify(m.env)}`);
            if (value.includes(0)) throw invalidParameter(`secret ${id} cannot be an environment variable: it holds a NUL byte`);
            // Given to this RUN's process only: never in the container's record or the image.
            env.push(`${m.env}=${value.toString('utf8')}`);
            key.push({ type: 'secret-env', id, env: m.env });
            if (m.target === '') continue;
          }
          const dir = join(this.#d.secretsDir, randomBytes(12).toString('hex'));
          await mkdir(dir, { recursive: true, mode: 0o700 });
          temps.push(dir);
          const file = join(dir, 'secret');
          await writeFile(file, value, { mode: m.mode ?? 0o400 });
          await chown(file, m.uid ?? 0, m.gid ?? 0);
          mounts.push({ Type: 'bind', Source: file, Target: target, ReadOnly: true });
          key.push({ type: 'secret', id, target, mode: m.mode ?? 0o400, uid: m.uid ?? 0, gid: m.gid ?? 0 });
        } else if (m.type === 'bind') {
          const bound = await this.#bindSource(m.source ?? '', m.from, ctx);
          temps.push(bound.dir);
          mounts.push({ Type: 'bind', Source: bound.path, Target: target, ReadOnly: m.readonly });
          key.push({ type: 'bind', from: m.from ?? '', source: m.source ?? '', target, ro: m.readonly, input: bound.digest });
        } else if (m.type === 'ssh') {
          const id = m.id ?? 'default';
          const sock = ctx.opts.ssh?.get(id);
          if (sock === undefined) {
            if (m.required) throw invalidParameter(`no SSH key ${JSON.stringify(id)} forwarded from the client`);
            continue;
          }
          // BuildKit's place for agents; the first one is SSH_AUTH_SOCK.
          const at = m.target || `/run/buildkit/ssh_agent.${sshCount}`;
          if (sshCount === 0) env.push(`SSH_AUTH_SOCK=${at}`);
          sshCount++;
          mounts.push({ Type: 'bind', Source: sock, Target: posix.resolve(workdir, at), ReadOnly: false });
          key.push({ type: 'ssh', id, target: at });
          targets.push(posix.resolve(workdir, at));
          continue;
        } else {
          throw notImplemented(`RUN --mount=type=${m.type} is not supported by this builder yet`);
        }
        if (target) targets.push(target);
      }
    } catch (err) {
      for (const t of temps) await rm(t, { recursive: true, force: true }).catch(() => {});
      throw err;
    }
    return {
      mounts,
      key,
      targets,
      env,
      release: async () => {
        for (const t of temps) await rm(t, { recursive: true, force: true }).catch(() => {});
      },
    };
  }

  /** A bind mount's source as a private copy: a context path (minus ignored files) or a stage's. */
  async #bindSource(source: string, from: string | undefined, ctx: StepContext): Promise<{ dir: string; path: string; digest: string }> {
    const rel = posix.normalize(`/${source}`);
    let src: CopySource;
    let isDir: boolean;
    if (from !== undefined && from !== '') {
      const root = await ctx.stageRoot(from);
      const kind = statInRoot(root, rel);
      if (kind === undefined) throw notFound(`failed to compute cache key: "${rel}" not found in ${from}`);
      isDir = kind === 'dir';
      src = rootSource(root, rel);
    } else {
      const path = rel === '/' ? '.' : rel.slice(1);
      const kind = ctx.ctxTree.kind(path);
      if (kind === undefined || ctx.ignore(path)) throw notFound(`failed to compute cache key: "${rel}" not found in the build context`);
      isDir = kind === 'dir';
      src = ctx.ctxTree.source(path);
      src.ignored = ctx.ignore;
    }
    const dir = join(ctx.work, `bind-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { mode: 0o755 });
    try {
      const tarFile = `${dir}.tar`;
      const { inputDigest } = await writeCopyLayer({ sources: [src], dest: '/', destIsDir: true, uid: 0, gid: 0, missingDirs: [] }, tarFile);
      try {
        // The tar was written here, from in-root reads: its names are clean and relative.
        await untarWithTar(tarFile, dir);
      } finally {
        await rm(tarFile, { force: true });
      }
      return { dir, path: isDir ? dir : join(dir, posix.basename(rel)), digest: inputDigest };
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Removes what the runtime made in the container's upper layer to mount onto: a mount target
   * (and its parents) the image did not have, while it is still an empty directory or file.
   * Never follows a symlink the step may have left on the way.
   */
  async #removeMountStubs(containerId: string, image: ImageRecord, targets: string[], work: string): Promise<void> {
    if (targets.length === 0) return;
    const upper = join(this.#d.containers.dir(containerId), 'upper');
    const mounted = await this.#mountImage(image, work);
    try {
      const candidates = new Set<string>();
      for (const t of targets) {
        const parts = t.split('/').filter(Boolean);
        for (let i = parts.length; i >= 1; i--) {
          const p = `/${parts.slice(0, i).join('/')}`;
          if (statInRoot(mounted.root, p) !== undefined) break;
          candidates.add(p);
        }
      }
      // Deepest first, so a parent is empty by the time it is looked at.
      for (const p of [...candidates].sort((a, b) => b.split('/').length - a.split('/').length)) {
        const parts = p.split('/').filter(Boolean);
        let here = upper;
        let safe = true;
        for (const c of parts.slice(0, -1)) {
          here = join(here, c);
          const st = await lstat(here).catch(() => undefined);
          if (!st?.isDirectory()) {
            safe = false;
            break;
          }
        }
        if (!safe) continue;
        const leaf = join(here, parts.at(-1)!);
        const st = await lstat(leaf).catch(() => undefined);
        if (st?.isDirectory()) await rmdir(leaf).catch(() => {});
        else if (st?.isFile() && st.size === 0) await unlink(leaf).catch(() => {});
      }
    } finally {
      await mounted.release();
    }
  }

  async #runContainer(
    st: StageState,
    image: ImageRecord,
    argv: string[],
    argsEnv: string[],
    createdBy: string,
    key: string,
    insNetwork: string | undefined,
    prepared: { mounts: unknown[]; targets: string[]; env: string[] },
    ctx: StepContext,
  ): Promise<void> {
    const C = this.#d.containers;
    const mounts = prepared.mounts;
    const network = insNetwork === 'none' ? 'none' : insNetwork === 'host' ? 'host' : (ctx.opts.networkMode && ctx.opts.networkMode !== 'default' ? ctx.opts.networkMode : 'default');
    const body: Record<string, unknown> = {
      Image: image.id,
      Cmd: argv,
      Entrypoint: [],
      Env: [...(st.config.Env ?? []), ...argsEnv],
      User: st.config.User ?? '',
      WorkingDir: st.config.WorkingDir ?? '',
      Labels: { [BUILD_LABEL]: 'intermediate' },
      HostConfig: { NetworkMode: network, Mounts: mounts },
    };
    const { Id: id } = await C.create(body, undefined);
    ctx.containers.push(id);
    ctx.say(` ---> Running in ${short(id)}\n`);
    let running = true;
    const exited = C.wait(id, 'next-exit');
    exited.finally(() => (running = false)).catch(() => {});
    await new Promise((r) => setTimeout(r, 1));
    await C.start(id, { extraEnv: prepared.env });
    const rec = C.find(id);
    for await (const e of readLogs({ path: rec.LogPath, stdout: true, stderr: true, follow: true, isRunning: () => running, pollMs: 50 })) {
      ctx.say(e.data.toString('utf8'));
    }
    const { StatusCode } = await exited;
    if (StatusCode !== 0) {
      throw new StepFailed(`The command '${argv.join(' ')}' returned a non-zero code: ${StatusCode}`, StatusCode);
    }
    await this.#removeMountStubs(id, image, prepared.targets, ctx.work);
    const img = await C.commit(id, { pause: false, changes: [], config: st.config, exactConfig: true, createdBy });
    if (ctx.opts.rm || ctx.opts.forceRm) {
      await C.remove(id, { force: true });
      ctx.containers.splice(ctx.containers.indexOf(id), 1);
      ctx.say(`Removing intermediate container ${short(id)}\n`);
    }
    await this.#cachePut(key, img.id);
    ctx.say(` ---> ${short(img.id)}\n`);
    this.#adopt(st, img);
  }

  async #copy(st: StageState, ins: Extract<Instruction, { kind: 'COPY' | 'ADD' }>, ctx: StepContext): Promise<void> {
    const work = ctx.work;
    let root: Tree;
    let ignored: ((p: string) => boolean) | undefined;
    if (ins.from !== undefined) {
      if (ins.kind === 'ADD') throw invalidParameter('ADD --from is not supported');
      root = rootTree(await ctx.stageRoot(ins.from));
    } else {
      root = ctx.ctxTree;
      ignored = ctx.ignore;
    }

    if (ins.exclude.length > 0) {
      // --exclude patterns match paths relative to each source, as .dockerignore patterns do.
      const ex = compileIgnore(ins.exclude.join('\n'));
      const base = ignored;
      const sourcesRel = ins.sources.map((s) => posix.normalize(`/${s}`).replace(/\/+$/, ''));
      ignored = (p: string): boolean => {
        if (base?.(p)) return true;
        const abs = `/${p}`;
        for (const src of sourcesRel) {
          const rel = abs === src ? posix.basename(src) : abs.startsWith(`${src}/`) ? abs.slice(src.length + 1) : src === '/' ? p : undefined;
          if (rel !== undefined && ex.ignores(rel)) return true;
        }
        return ex.ignores(posix.basename(p));
      };
    }
    const sources: CopySource[] = [];
    // `COPY <<EOF /dest`: each heredoc is a file of its own.
    for (const h of ins.heredocs) {
      const env = new Map([...st.args, ...st.env]);
      const body = h.expand ? expand(h.content, env) : h.content;
      sources.push(bufferSource(h.name, Buffer.from(body), 0o644));
    }
    for (const s of ins.sources) {
      if (/^https?:\/\//i.test(s)) {
        if (ins.kind !== 'ADD') throw invalidParameter(`source can't be a URL for COPY`);
        sources.push(await this.#download(s, ins.checksum, ctx));
        continue;
      }
      const matches = expandSource(root, s, ignored);
      if (matches.length === 0) throw notFound(`${ins.kind.toLowerCase()} failed: no source files were specified`);
      // --parents keeps each source's path under dest; a `/./` in the source marks where it starts.
      const pivot = s.includes('/./') ? posix.normalize(`/${s.slice(0, s.indexOf('/./'))}`).replace(/\/+$/, '') : '';
      for (const p of matches) {
        const src: CopySource = root.source(p);
        if (ins.parents) {
          const clean = p.replace(/\/\.$/, '');
          const kept = pivot !== '' && (clean === pivot || clean.startsWith(`${pivot}/`)) ? clean.slice(pivot.length) : clean;
          const parent = root.kind(clean) === 'dir' ? kept : posix.dirname(kept);
          src.parentDir = parent.replace(/^\/+/, '');
        }
        if (ignored) src.ignored = ignored;
        if (ins.kind === 'ADD' && root.kind(p) === 'file' && looksLikeArchive(root.head(p, 512))) src.unpackArchives = true;
        sources.push(src);
      }
    }
    const workdir = st.config.WorkingDir || '/';
    let dest = ins.dest.startsWith('/') ? ins.dest : posix.join(workdir, ins.dest) + (ins.dest.endsWith('/') ? '/' : '');
    if (dest === '') dest = '/';
    // dest is a directory when it says so, when there are several sources, or when the image has one there.
    const imageRoot = st.image ? await this.#mountImage(st.image, work) : undefined;
    try {
      const destClean = posix.normalize(dest).replace(/\/+$/, '') || '/';
      const existing = imageRoot ? statInRoot(imageRoot.root, destClean) : undefined;
      const destIsDir = ins.parents || dest.endsWith('/') || sources.length > 1 || existing === 'dir' || sources.some((s) => s.unpackArchives) || (sources.length === 1 && root.kind(sources[0]!.path) === 'dir');
      const owner = ins.chown !== undefined ? await this.#owner(ins.chown, imageRoot?.root) : { uid: 0, gid: 0 };
      const mode = ins.chmod !== undefined ? parseChmod(ins.chmod) : undefined;
      // Parent directories the image lacks (and dest itself when it is a directory).
      const missing: string[] = [];
      const parts = destClean.split('/').filter(Boolean);
      const upto = destIsDir ? parts.length : parts.length - 1;
      for (let i = 1; i <= upto; i++) {
        const p = `/${parts.slice(0, i).join('/')}`;
        if (!imageRoot || statInRoot(imageRoot.root, p) === undefined) missing.push(p);
      }
      const layerFile = join(work, `layer-${randomBytes(6).toString('hex')}.tar`);
      const { inputDigest } = await writeCopyLayer({ sources, dest: destClean, destIsDir, uid: owner.uid, gid: owner.gid, ...(mode !== undefined ? { mode } : {}), missingDirs: missing }, layerFile);
      // As Docker names the sources: one file, one directory, or several.
      const what = sources.length > 1 ? 'multi' : sources.length === 1 && root.kind(sources[0]!.path) === 'dir' ? 'dir' : 'file';
      const createdBy = `/bin/sh -c #(nop) ${ins.kind} ${inputDigest.replace('sha256:', `${what}:`).slice(0, what.length + 65)} in ${dest} `;
      const key = sha256Digest(JSON.stringify({ parent: st.image?.id ?? 'scratch', op: `${ins.kind} ${dest}`, input: inputDigest, config: st.config, history: st.image ? undefined : st.history }));
      const hit = ctx.opts.noCache ? undefined : await this.#cacheGet(key);
      if (hit !== undefined) {
        ctx.say(` ---> Using cache\n ---> ${short(hit.id)}\n`);
        this.#adopt(st, hit);
        return;
      }
      const created = new Date().toISOString();
      const history = [...st.history, { created, created_by: createdBy }];
      const base = st.image;
      const { rootfs: _r, ...parentConfig } = base?.config ?? ({} as Partial<ImageConfigFile>);
      const img = await this.#d.images.createImage({
        layerTars: [createReadStream(layerFile)],
        ...(base ? { parent: base.id } : {}),
        config: { ...parentConfig, created, config: st.config, history },
      });
      await rm(layerFile, { force: true });
      await this.#cachePut(key, img.id);
      ctx.say(` ---> ${short(img.id)}\n`);
      this.#adopt(st, img);
    } finally {
      await imageRoot?.release();
    }
  }

  /** ADD <url>: fetched by the daemon into the build's work directory, size-bounded, checksum-checked. */
  async #download(url: string, checksum: string | undefined, ctx: StepContext): Promise<CopySource> {
    let got: Download;
    try {
      got = await download(url, { maxBytes: MAX_DOWNLOAD, ...(ctx.opts.signal ? { signal: ctx.opts.signal } : {}) });
    } catch (err) {
      if (err instanceof DownloadError) throw invalidParameter(`failed to download ${url}: ${err.message}`, err);
      throw err;
    }
    const data = got.data;
    if (checksum !== undefined) {
      const sum = sha256Digest(data);
      if (sum !== checksum) throw invalidParameter(`digest mismatch for ${url}: expected ${checksum}, got ${sum}`);
    }
    const name = posix.basename(new URL(url).pathname) || 'index.html';
    return bufferSource(name, data, 0o600, got.lastModified ?? new Date(0));
  }

  /** --chown user[:group] → numeric IDs, names looked up in the image's passwd and group files. */
  async #owner(spec: string, root: RootFs | undefined): Promise<{ uid: number; gid: number }> {
    const [u = '', g] = spec.split(':');
    const lookup = (file: string, name: string): number | undefined => {
      if (/^\d+$/.test(name)) return Number(name);
      if (!root) return undefined;
      let text = '';
      try {
        text = readSmallInRoot(root, file);
      } catch {
        return undefined;
      }
      for (const line of text.split('\n')) {
        const f = line.split(':');
        if (f[0] === name && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
      }
      return undefined;
    };
    const uid = lookup('/etc/passwd', u);
    if (uid === undefined) throw invalidParameter(`unable to convert uid/gid chown string to host mapping: can't find uid for user ${u}`);
    let gid = uid;
    if (g !== undefined && g !== '') {
      const x = lookup('/etc/group', g);
      if (x === undefined) throw invalidParameter(`unable to convert uid/gid chown string to host mapping: can't find gid for group ${g}`);
      gid = x;
    } else if (!/^\d+$/.test(u) && root) {
      // A user name alone: its primary group from passwd.
      try {
        for (const line of readSmallInRoot(root, '/etc/passwd').split('\n')) {
          const f = line.split(':');
          if (f[0] === u && f[3] !== undefined && /^\d+$/.test(f[3])) gid = Number(f[3]);
        }
      } catch {
        // No passwd: the uid doubles as gid.
      }
    }
    return { uid, gid };
  }

  /** The image's root filesystem, read-only, for in-root reads; release() unmounts it. */
  async #mountImage(img: ImageRecord, work: string): Promise<{ root: RootFs; release: () => Promise<void> }> {
    const lowers = this.#d.images.lowerDirs(img.id);
    const target = join(work, `root-${randomBytes(6).toString('hex')}`);
    await mkdir(target, { mode: 0o700 });
    let mounted = false;
    let path = target;
    if (lowers.length === 1) path = lowers[0]!;
    else if (lowers.length > 1) {
      await this.#d.mounts.overlayReadOnly(lowers, target);
      mounted = true;
    }
    const root = RootFs.open(path);
    return {
      root,
      release: async () => {
        root.close();
        if (mounted) await this.#d.mounts.unmount(target).catch(() => {});
        await rm(target, { recursive: true, force: true }).catch(() => {});
      },
    };
  }
}

interface StepContext {
  opts: BuildOptions;
  say: (s: string) => void;
  given: Map<string, string>;
  used: Set<string>;
  meta: Map<string, string>;
  ctxTree: Tree;
  ignore: (p: string) => boolean;
  stageRoot: (ref: string) => Promise<RootFs>;
  work: string;
  containers: string[];
}

function cleanContextPath(p: string): string {
  const clean = posix.normalize(`/${p}`).slice(1);
  if (clean === '' || clean.startsWith('..')) throw invalidParameter(`forbidden path outside the build context: ${p}`);
  return clean;
}

function readSmallInRoot(root: RootFs, path: string, max = 1 << 20): string {
  const r = root.resolve(path, { followFinal: true });
  try {
    if (r.fd === undefined || !r.stat?.isFile()) throw notFound(`${path} not found`);
    if (Number(r.stat.size) > max) throw invalidParameter(`${path} is too large`);
    const fd = openSync(fdPath(r.fd), 'r');
    try {
      const buf = Buffer.alloc(Number(r.stat.size));
      let off = 0;
      while (off < buf.length) {
        const n = readSync(fd, buf, off, buf.length - off, off);
        if (n === 0) break;
        off += n;
      }
      return buf.subarray(0, off).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } finally {
    r.close();
  }
}

function statInRoot(root: RootFs, path: string): 'dir' | 'file' | undefined {
  try {
    const r = root.resolve(path, { followFinal: true, allowMissing: true });
    try {
      if (r.stat === undefined || r.fd === undefined) return undefined;
      return r.stat.isDirectory() ? 'dir' : 'file';
    } finally {
      r.close();
    }
  } catch {
    return undefined;
  }
}

/** What COPY reads from: the build context or another stage's image. */
interface Tree {
  kind(path: string): 'dir' | 'file' | undefined;
  list(dir: string): string[];
  head(path: string, n: number): Buffer;
  source(path: string): CopySource;
}

function contextTree(c: BuildContext): Tree {
  return {
    kind: (p) => c.kind(p),
    list: (d) => c.list(d),
    head: (p, n) => c.head(p, n),
    source: (p) => ({ path: p, pack: () => c.pack(p) }),
  };
}

function rootTree(root: RootFs): Tree {
  return {
    kind: (p) => statInRoot(root, p),
    list: (d) => {
      try {
        const r = root.resolve(d, { followFinal: true });
        try {
          return r.fd !== undefined ? readdirSync(fdPath(r.fd)) : [];
        } finally {
          r.close();
        }
      } catch {
        return [];
      }
    },
    head: (p, n) => {
      try {
        const r = root.resolve(p, { followFinal: true });
        try {
          if (r.fd === undefined || !r.stat?.isFile()) return Buffer.alloc(0);
          const fd = openSync(fdPath(r.fd), 'r');
          try {
            const head = Buffer.alloc(n);
            return head.subarray(0, readSync(fd, head, 0, n, 0));
          } finally {
            closeSync(fd);
          }
        } finally {
          r.close();
        }
      } catch {
        return Buffer.alloc(0);
      }
    },
    source: (p) => rootSource(root, p),
  };
}

/** A source path with globs expanded against the root, one component at a time (sorted, as Docker). */
function expandSource(root: Tree, src: string, ignored: ((p: string) => boolean) | undefined): string[] {
  const clean = posix.normalize(`/${src}`);
  if (clean.startsWith('/..')) throw invalidParameter(`forbidden path outside the build context: ${src}`);
  const keepDot = src.endsWith('/.') || src === '.';
  if (!hasGlob(clean)) {
    if (root.kind(clean) === undefined) throw notFound(`failed to compute cache key: failed to calculate checksum of ref: "${clean}": not found`);
    return [keepDot && clean !== '/' ? `${clean}/.` : clean];
  }
  let paths = ['/'];
  for (const comp of clean.split('/').filter(Boolean)) {
    const next: string[] = [];
    for (const p of paths) {
      if (!hasGlob(comp)) {
        const c = posix.join(p, comp);
        if (root.kind(c) !== undefined) next.push(c);
        continue;
      }
      const names = root.list(p);
      for (const n of names.sort()) if (matchComponent(comp, n)) next.push(posix.join(p, n));
    }
    paths = next;
  }
  return paths.filter((p) => !ignored?.(p.slice(1)));
}

/** A copy source made of bytes in memory (a heredoc, a download). */
function bufferSource(name: string, data: Buffer, mode: number, mtime = new Date(0)): CopySource {
  return {
    path: `/${name}`,
    pack: () => {
      const pack = tar.pack();
      pack.entry({ name, mode, mtime, size: data.length }, data, (err) => (err ? pack.destroy(err) : pack.finalize()));
      return { isDir: false, stream: pack as unknown as Readable };
    },
  };
}

function parseChmod(s: string): number {
  if (!/^[0-7]{3,4}$/.test(s)) throw invalidParameter(`invalid chmod parameter: ${s}`);
  return parseInt(s, 8);
}

