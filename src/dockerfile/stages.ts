import { DockerfileError, type ParsedDockerfile, type RawInstruction } from './types.ts';

export interface Stage {
  /** 0-based position among the FROMs. */
  index: number;
  from: RawInstruction;
  body: RawInstruction[];
}

/** Splits instructions into the meta ARGs (before the first FROM) and one entry per FROM. */
export function splitStages(parsed: ParsedDockerfile): { metaArgs: RawInstruction[]; stages: Stage[] } {
  const metaArgs: RawInstruction[] = [];
  const stages: Stage[] = [];
  for (const ins of parsed.instructions) {
    if (ins.keyword === 'FROM') {
      stages.push({ index: stages.length, from: ins, body: [] });
      continue;
    }
    const current = stages.at(-1);
    if (current) current.body.push(ins);
    else if (ins.keyword === 'ARG') metaArgs.push(ins);
    else throw new DockerfileError('no build stage in current context', ins.startLine);
  }
  if (stages.length === 0) throw new DockerfileError('dockerfile contains no stages to build', parsed.instructions.at(-1)?.endLine ?? 1);
  return { metaArgs, stages };
}
