// Garbage collection of the registry's blob store: mark every blob some manifest revision of
// some repository refers to (configs, layers, child manifests of indexes, the manifests
// themselves), then sweep the rest. Run it while the server is stopped or read-only: a push
// between mark and sweep could lose its blobs, as with the reference registry.
import { MAX_MANIFEST_SIZE, parseManifest, type ParsedManifest } from './manifest.ts';
import type { RegistryStorage } from './storage.ts';

export interface GcOptions {
  dryRun?: boolean;
  /** Also remove manifests no tag reaches (directly, through an index, or as a referrer). */
  deleteUntagged?: boolean;
  onEvent?: (e: GcEvent) => void;
}

export type GcEvent =
  | { kind: 'manifest-removed'; repository: string; digest: string }
  | { kind: 'blob-removed'; digest: string; size: number }
  | { kind: 'warning'; message: string };

export interface GcResult {
  marked: number;
  removedBlobs: { digest: string; size: number }[];
  removedManifests: { repository: string; digest: string }[];
  reclaimedBytes: number;
}

export async function collectGarbage(storage: RegistryStorage, opts: GcOptions = {}): Promise<GcResult> {
  const emit = opts.onEvent ?? (() => {});
  const marked = new Set<string>();
  const removedManifests: { repository: string; digest: string }[] = [];

  for (const repo of await storage.repositories()) {
    const parsed = new Map<string, ParsedManifest>();
    for (const rev of await storage.revisions(repo)) {
      try {
        parsed.set(rev.digest, parseManifest(await storage.readBlob(rev.digest, MAX_MANIFEST_SIZE), rev.mediaType));
      } catch (err) {
        // A revision whose bytes are gone or unreadable cannot protect anything; keep its digest.
        marked.add(rev.digest);
        emit({ kind: 'warning', message: `${repo}@${rev.digest}: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
    let live = new Set(parsed.keys());
    if (opts.deleteUntagged) live = await reachable(storage, repo, parsed);
    for (const digest of parsed.keys()) {
      if (live.has(digest)) continue;
      removedManifests.push({ repository: repo, digest });
      emit({ kind: 'manifest-removed', repository: repo, digest });
      if (!opts.dryRun) await storage.deleteManifest(repo, digest);
    }
    for (const digest of live) {
      const m = parsed.get(digest);
      marked.add(digest);
      if (!m) continue;
      for (const b of m.allBlobs) marked.add(b);
      for (const c of m.manifests) marked.add(c);
    }
  }

  const removedBlobs: { digest: string; size: number }[] = [];
  for (const blob of await storage.allBlobs()) {
    if (marked.has(blob.digest)) continue;
    removedBlobs.push(blob);
    emit({ kind: 'blob-removed', ...blob });
    if (!opts.dryRun) await storage.removeBlob(blob.digest);
  }
  if (!opts.dryRun && removedBlobs.length > 0) {
    const gone = new Set(removedBlobs.map((b) => b.digest));
    for (const repo of await storage.repositories()) {
      for (const link of await storage.layerLinks(repo)) if (gone.has(link)) await storage.removeLayerLink(repo, link);
    }
  }
  return { marked: marked.size, removedBlobs, removedManifests, reclaimedBytes: removedBlobs.reduce((n, b) => n + b.size, 0) };
}

/** Manifests reachable from the repository's tags, through indexes and referrers. */
async function reachable(storage: RegistryStorage, repo: string, parsed: Map<string, ParsedManifest>): Promise<Set<string>> {
  const live = new Set<string>();
  const queue: string[] = [];
  for (const tag of await storage.tags(repo).catch(() => [])) {
    try {
      queue.push(await storage.resolve(repo, tag));
    } catch {}
  }
  const bySubject = new Map<string, string[]>();
  for (const [digest, m] of parsed) {
    if (m.subject === undefined) continue;
    bySubject.set(m.subject, [...(bySubject.get(m.subject) ?? []), digest]);
  }
  while (queue.length > 0) {
    const d = queue.pop()!;
    if (live.has(d)) continue;
    live.add(d);
    const m = parsed.get(d);
    if (m) queue.push(...m.manifests);
    queue.push(...(bySubject.get(d) ?? []));
  }
  return live;
}

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(3).replace(/\.?0+$/, '')}${units[i]}`;
}
