/** Anchored comments grouped into marks on the bar under the player. */
import type { Comment } from '../../realtime';

const BUCKETS = 100;

export interface Mark {
  at: number;
  comments: Comment[];
}

/** Anchored comments (in playback order) grouped by the slice of the bar they fall in. */
export function groupMarks(marks: readonly Comment[], duration: number): Mark[] {
  const groups = new Map<number, Mark>();
  for (const comment of marks) {
    const at = comment.position_seconds ?? 0;
    const bucket = Math.min(BUCKETS - 1, Math.floor((at / duration) * BUCKETS));
    const group = groups.get(bucket);
    if (group) {
      group.comments.push(comment);
      group.at = at; // the latest of the group: seeking there shows them all (see atMoment)
    } else groups.set(bucket, { at, comments: [comment] });
  }
  return [...groups.values()];
}
