// Remote build contexts (POST /build?remote=…, `berth build URL`), as Docker's classic builder
// takes them: a Git repository (`https://…/repo.git#ref:subdir`, `git@host:repo`, `github.com/…`)
// cloned by the daemon, an HTTP(S) URL of a tar archive (plain or compressed), or of a plain
// Dockerfile that becomes the whole context.
import { mkdir, realpath, rm, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { invalidParameter, messageOf } from '../../core/errors.ts';
import { looksLikeArchive } from './copy.ts';
import { checkout } from '../../adapters/git/index.ts';
import { download, DownloadError } from '../../adapters/http/index.ts';
import { packEntries, tarDirectoryWithTar } from '../../adapters/tar/index.ts';

/** At most this much is fetched for a URL context. */
const MAX_REMOTE = 2 * 1024 ** 3;

export interface RemoteContext {
  /** The context as a tar stream. */
  stream: Readable;
  /** The Dockerfile's name in it when the remote was a Dockerfile alone. */
  dockerfile?: string;
}

/** Docker's test for a Git remote. */
export function isGitUrl(remote: string): boolean {
  if (/^git:\/\//.test(remote) || /^git@[^:]+:/.test(remote) || /^github\.com\//.test(remote)) return true;
  return /^https?:\/\/\S+\.git(#\S*)?$/.test(remote);
}

/** `url#ref:subdir` → its parts; github.com/x/y becomes https://github.com/x/y. */
export function parseGitRemote(remote: string): { url: string; ref: string | undefined; subdir: string } {
  const hash = remote.indexOf('#');
  let url = hash >= 0 ? remote.slice(0, hash) : remote;
  const fragment = hash >= 0 ? remote.slice(hash + 1) : '';
  if (url.startsWith('github.com/')) url = `https://${url}`;
  const colon = fragment.indexOf(':');
  const ref = (colon >= 0 ? fragment.slice(0, colon) : fragment) || undefined;
  const subdir = colon >= 0 ? fragment.slice(colon + 1) : '';
  if (ref !== undefined && (ref.startsWith('-') || /\s/.test(ref))) throw invalidParameter(`invalid git reference ${JSON.stringify(ref)}`);
  if (subdir.split('/').includes('..')) throw invalidParameter(`invalid git context path ${JSON.stringify(subdir)}: it leaves the repository`);
  return { url, ref, subdir };
}

// Only network transports: ext:: and file:// (a daemon reading its own host's files) stay off.

/** Refuses a remote that is neither a Git repository nor an http(s) URL (ext::, file://, paths). */
export function checkRemote(remote: string): void {
  if (isGitUrl(remote)) parseGitRemote(remote);
  else if (!/^https?:\/\//i.test(remote)) throw invalidParameter(`unable to prepare context: remote ${JSON.stringify(remote)} is neither a Git repository nor an http(s) URL`);
}

/** Fetches the remote into work/ and gives the context to build. */
export async function remoteContext(remote: string, work: string, opts: { signal?: AbortSignal } = {}): Promise<RemoteContext> {
  checkRemote(remote);
  return isGitUrl(remote) ? gitContext(remote, work, opts) : urlContext(remote, opts);
}

async function gitContext(remote: string, work: string, opts: { signal?: AbortSignal }): Promise<RemoteContext> {
  const { url, ref, subdir } = parseGitRemote(remote);
  const dir = join(work, 'git');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await checkout(url, ref, dir, { home: work, ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (err) {
    throw invalidParameter(`unable to prepare context: unable to 'git clone' to temporary context directory: ${messageOf(err)}`);
  }
  await rm(join(dir, '.git'), { recursive: true, force: true });
  // The subdirectory, resolved without leaving the checkout (a symlink may point anywhere).
  const root = await realpath(join(dir, subdir)).catch(() => undefined);
  const top = await realpath(dir);
  if (root === undefined || (root !== top && !root.startsWith(top + sep)) || relative(top, root).startsWith('..')) {
    throw invalidParameter(`unable to prepare context: ${subdir || '.'} is not a directory in the repository`);
  }
  if (!(await stat(root)).isDirectory()) throw invalidParameter(`unable to prepare context: ${subdir} is not a directory in the repository`);
  return { stream: tarDirectoryWithTar(root) };
}

async function urlContext(url: string, opts: { signal?: AbortSignal }): Promise<RemoteContext> {
  let data: Buffer;
  try {
    data = (await download(url, { maxBytes: MAX_REMOTE, ...(opts.signal ? { signal: opts.signal } : {}) })).data;
  } catch (err) {
    if (err instanceof DownloadError && err.reason === 'size') throw invalidParameter(`unable to prepare context: ${url} is larger than ${MAX_REMOTE} bytes`, err);
    if (err instanceof DownloadError) throw invalidParameter(`unable to prepare context: failed to download ${url}: ${err.message}`, err);
    throw err;
  }
  if (looksLikeArchive(data.subarray(0, 512))) return { stream: Readable.from([data]) };
  // Anything else is a Dockerfile, the only file of the context.
  return { stream: dockerfileTar(data), dockerfile: 'Dockerfile' };
}

/** A directory as a tar stream (the host's tar: fast, and the paths are the daemon's own checkout). */

function dockerfileTar(content: Buffer): Readable {
  return packEntries([{ name: 'Dockerfile', type: 'file', mode: 0o644, content }]);
}
