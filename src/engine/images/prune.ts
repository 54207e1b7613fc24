// image prune: dangling images (no tags) by default, every image no container uses with `all`;
// `until` and `label` / `label!` filters as Docker's.
import { invalidParameter, isKind } from '../../core/errors.ts';
import type { DeleteResponseItem, ImageStore } from '../../stores/images.ts';

export interface ImagePruneResult {
  ImagesDeleted: DeleteResponseItem[] | null;
  SpaceReclaimed: number;
}

const KNOWN = new Set(['dangling', 'until', 'label', 'label!']);

function labelMatch(labels: Record<string, string>, f: string): boolean {
  const eq = f.indexOf('=');
  if (eq < 0) return f in labels;
  return labels[f.slice(0, eq)] === f.slice(eq + 1);
}

export async function pruneImages(images: ImageStore, filters: Record<string, string[]>, opts: { inUse: (id: string) => boolean; parseTime: (s: string) => number }): Promise<ImagePruneResult> {
  for (const k of Object.keys(filters)) if (!KNOWN.has(k)) throw invalidParameter(`invalid filter '${k}'`);
  const danglingOnly = !['false', '0'].includes((filters.dangling?.[0] ?? 'true').toLowerCase());
  const until = filters.until?.[0] !== undefined ? opts.parseTime(filters.until[0]) : undefined;
  const layerSize = new Map(images.layers.list().map((l) => [l.chainId, l.size]));
  const deleted: DeleteResponseItem[] = [];
  let space = 0;
  // Newest first, so children go before the images they were built on.
  for (const img of images.list()) {
    if (images.resolve(img.id) === undefined || opts.inUse(img.id)) continue;
    if (danglingOnly && images.tagsOf(img.id).length > 0) continue;
    if (until !== undefined && Date.parse(img.config.created ?? img.created) / 1000 >= until) continue;
    const labels = img.config.config?.Labels ?? {};
    if (!(filters.label ?? []).every((f) => labelMatch(labels, f))) continue;
    if ((filters['label!'] ?? []).some((f) => labelMatch(labels, f))) continue;
    try {
      const items = await images.remove(img.id, { force: true, usedBy: (id) => opts.inUse(id) });
      for (const it of items) {
        deleted.push(it);
        if (it.Deleted !== undefined) space += layerSize.get(it.Deleted) ?? 0;
      }
    } catch (err) {
      // An image with children or one that became used meanwhile stays.
      if (!isKind(err, 'Conflict')) throw err;
    }
  }
  return { ImagesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: space };
}
