/** How far an event's queue is to be applied in a round: every request accepted up to `upToSeq`. */
export interface DrainTarget {
  readonly eventId: string;
  readonly upToSeq: number;
  /**
   * Every purchase of the event up to this sequence number is known to be decided (0: nothing is
   * known), so looking for undecided ones may start after it.
   */
  readonly decidedThrough?: number;
}

/** Targets as one array per column, for `unnest`. */
export const targetArrays = (targets: readonly DrainTarget[]) => ({
  eventIds: targets.map((target) => target.eventId),
  upToSeqs: targets.map((target) => target.upToSeq),
  afterSeqs: targets.map((target) => target.decidedThrough ?? 0),
});
