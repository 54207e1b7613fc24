// The compose-file loader: pure functions from compose files to the `Project` model.

export { parseDotEnv, type DotEnvOptions } from './dotenv.ts';
export { configHash } from './hash.ts';
export { interpolate, type InterpolateOptions, type Lookup } from './interpolate.ts';
export { DEFAULT_FILES, loadProject, normalizeProjectName } from './load.ts';
export { serviceOrder } from './order.ts';
export { shellSplit } from './shlex.ts';
export { toYaml } from './to-yaml.ts';
export * from './types.ts';
