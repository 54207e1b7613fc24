// Compose's `!reset` and `!override` YAML tags, used in override files: `!reset` removes a field
// set by an earlier file, `!override` replaces it where the merge rules would combine.

import { Scalar, type YAMLMap, type YAMLSeq } from 'yaml';

/** A field an override file removes. */
export class Reset {}

/** A field an override file replaces as a whole. */
export class Override {
  readonly value: unknown;
  constructor(value: unknown) {
    this.value = value;
  }
}

const reset = (): Scalar => new Scalar(new Reset());
const override = (node: YAMLMap | YAMLSeq): Scalar => new Scalar(new Override(node.toJSON()));

export const COMPOSE_TAGS = [
  { tag: '!reset', default: false as const, resolve: (): Reset => new Reset() },
  { tag: '!reset', collection: 'seq' as const, default: false as const, resolve: reset },
  { tag: '!reset', collection: 'map' as const, default: false as const, resolve: reset },
  { tag: '!override', default: false as const, resolve: (v: string): Override => new Override(v) },
  { tag: '!override', collection: 'seq' as const, default: false as const, resolve: override },
  { tag: '!override', collection: 'map' as const, default: false as const, resolve: override },
];
