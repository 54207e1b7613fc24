// berth's version, and the commit the bundles were built from with its date (scripts/build
// fills them in; both are empty when berth runs from its sources).
declare const __BERTH_COMMIT__: string | undefined;
declare const __BERTH_COMMIT_DATE__: string | undefined;

export const BERTH_VERSION = '0.1.0';
export const BERTH_COMMIT = typeof __BERTH_COMMIT__ === 'string' ? __BERTH_COMMIT__ : '';
/** ISO 8601; the commit's own date, so the same commit always builds the same bundle. */
export const BERTH_COMMIT_DATE = typeof __BERTH_COMMIT_DATE__ === 'string' ? __BERTH_COMMIT_DATE__ : '';

/**
 * A program's version and commit from what its `--version` prints: runc's `runc version 1.1.5+ds1`
 * and `commit: 1.1.5+ds1-1+deb12u1`, conmon's `commit: unknown` (none), tini's
 * `tini version 0.19.0 - git.de40ad0`.
 */
export function parseProgramVersion(stdout: string): { version: string; commit: string } {
  const lines = stdout.split('\n');
  const [version = '', gitCommit = ''] = (lines[0]?.replace(/^\S+ version\s*/, '').trim() ?? '').split(/\s+-\s+git\./);
  const commit = lines.find((l) => l.startsWith('commit:'))?.slice('commit:'.length).trim() ?? '';
  return { version, commit: commit === 'unknown' ? '' : commit || gitCommit };
}
