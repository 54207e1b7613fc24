import { BerthError } from '../core/errors.ts';

// The Dockerfile frontend's model: what the parser produces and the build engine consumes.
// The frontend is pure (no I/O): text in, instructions out, errors naming file, line and
// instruction as Docker's do.

export interface SourceRange {
  /** 1-based first and last line of the instruction in the Dockerfile. */
  startLine: number;
  endLine: number;
}

export interface Heredoc {
  /** The delimiter word (`EOF`). */
  name: string;
  /** The body, lines joined with `\n`, ending in `\n` unless empty. */
  content: string;
  /** False when the delimiter was quoted (`<<"EOF"`): no variable expansion in the body. */
  expand: boolean;
  /** `<<-EOF`: leading tabs stripped from every line. */
  chomp: boolean;
}

/** One instruction as written, before variable expansion. */
export interface RawInstruction extends SourceRange {
  /** The keyword upper-cased: `RUN`, `COPY`, … */
  keyword: string;
  /** The whole instruction as written (continuation lines joined), for messages and history. */
  original: string;
  /** `--name=value` flags before the arguments, in order (`--mount` may repeat). */
  flags: Array<{ name: string; value: string | undefined }>;
  /** The text after the keyword and flags (continuations joined, comments inside removed). */
  rest: string;
  /** Set when `rest` is a JSON array of strings (exec form). */
  json?: string[];
  heredocs: Heredoc[];
}

export interface ParsedDockerfile {
  /** Parser directives: `# syntax=`, `# escape=`, `# check=` (only before the first instruction). */
  directives: { syntax?: string; escape: '\\' | '`'; check?: string };
  instructions: RawInstruction[];
  /** Deprecations and the like, for the build output (`MAINTAINER is deprecated`, empty continuation lines, …). */
  warnings: string[];
}

/** Expands `$VAR`, `${VAR}`, `${VAR:-x}`, `${VAR:+x}`, `${VAR-x}`, `${VAR+x}`, with escapes, against env. */
export type Expander = (word: string, env: ReadonlyMap<string, string>) => string;

export interface RunMount {
  type: 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
  target: string;
  source?: string;
  from?: string;
  id?: string;
  readonly: boolean;
  /** cache: `shared` (default), `private`, `locked`. */
  sharing?: 'shared' | 'private' | 'locked';
  mode?: number;
  uid?: number;
  gid?: number;
  required?: boolean;
  size?: number;
  /** secret: also expose the secret as this environment variable (`env=`). */
  env?: string;
}

export interface HealthcheckSpec {
  /** `["NONE"]`, `["CMD", …]` or `["CMD-SHELL", "…"]`. */
  test: string[];
  intervalNs?: number;
  timeoutNs?: number;
  startPeriodNs?: number;
  startIntervalNs?: number;
  retries?: number;
}

/** An instruction with its flags decoded and its words expanded against the build's variables. */
export type Instruction = SourceRange & { original: string } & (
    | { kind: 'FROM'; image: string; stageName?: string; platform?: string }
    | { kind: 'RUN'; /** exec form argv, or the shell-form command line */ command: string[]; shell: boolean; mounts: RunMount[]; network?: 'default' | 'none' | 'host'; /** `--security=` */ security?: 'sandbox' | 'insecure'; heredocs: Heredoc[] }
    | { kind: 'CMD' | 'ENTRYPOINT'; command: string[]; shell: boolean }
    | { kind: 'ENV' | 'LABEL'; pairs: Array<[string, string]> }
    | { kind: 'ARG'; args: Array<{ name: string; default?: string }> }
    | { kind: 'EXPOSE'; ports: string[] }
    | { kind: 'USER'; user: string }
    | { kind: 'WORKDIR'; path: string }
    | { kind: 'VOLUME'; paths: string[] }
    | { kind: 'STOPSIGNAL'; signal: string }
    | { kind: 'HEALTHCHECK'; healthcheck: HealthcheckSpec }
    | { kind: 'SHELL'; shell: string[] }
    | { kind: 'ONBUILD'; expression: string }
    | { kind: 'MAINTAINER'; name: string }
    | {
        kind: 'COPY' | 'ADD';
        sources: string[];
        dest: string;
        from?: string;
        chown?: string;
        chmod?: string;
        link: boolean;
        parents: boolean;
        exclude: string[];
        checksum?: string;
        keepGitDir?: boolean;
        /** ADD `--unpack=`: set only when the flag is given. */
        unpack?: boolean;
        heredocs: Heredoc[];
      }
  );

/** An error in a Dockerfile: message as Docker words it, with where it happened (an InvalidParameter). */
export class DockerfileError extends BerthError {
  readonly line: number | undefined;
  constructor(message: string, line?: number) {
    super('InvalidParameter', message);
    this.name = 'DockerfileError';
    this.line = line;
  }
}
