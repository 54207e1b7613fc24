// In-root file access to container filesystems (see root.ts for the safety model) and the
// archives of the container archive API built on it.
export { RootFs, cleanPath, hasTrailingDirMark, fdPath, removeAt, type Resolved, type ResolveOptions } from './root.ts';
export { statPath, packPath, extractInto, cleanEntryName, goFileMode, goTime, normalizeContainerPath, type PathStat, type ExtractOptions, type OwnerNames } from './archive.ts';
