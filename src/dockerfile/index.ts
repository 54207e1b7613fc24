// The Dockerfile frontend: pure functions from text to instructions, no I/O.

export { isProxyArg, predefinedArgs, type Platform } from './args.ts';
export { checkInstruction, decodeInstruction, parseMount, type DecodeOptions } from './decode.ts';
export { duration } from './duration.ts';
export { compileIgnore, dockerignoreNameFor, readIgnorePatterns, type IgnoreMatcher } from './ignore.ts';
export { expand, expandWords, type EscapeToken } from './lex.ts';
export { INSTRUCTIONS, parseDockerfile, type ParseOptions } from './parse.ts';
export { splitStages, type Stage } from './stages.ts';
export * from './types.ts';
