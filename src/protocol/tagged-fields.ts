/** A tagged field the codec has no name for, kept byte for byte so it survives a rewrite. */
export interface TaggedField {
  tag: number;
  data: Buffer;
}
