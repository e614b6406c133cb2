/**
 * How the page arranges the comments it holds (one map by id, see realtime/videoEvents): threads
 * newest first with their replies oldest first, and the comments anchored to a media moment.
 */
import type { Comment } from '../../realtime';

/** Emoji a viewer can drop at a moment; a comment that is exactly one of them shows as a reaction. */
export const REACTIONS = ['👍', '❤️', '😂', '😮', '👏'] as const;

export function isReaction(comment: Comment): boolean {
  return (REACTIONS as readonly string[]).includes(comment.body.trim());
}

/** Top-level comments, newest first (ids grow with time). */
export function topLevel(comments: ReadonlyMap<number, Comment>): Comment[] {
  return [...comments.values()].filter((c) => c.root_id === null).sort((a, b) => b.id - a.id);
}

/** Each thread's replies, oldest first. */
export function repliesByRoot(comments: ReadonlyMap<number, Comment>): Map<number, Comment[]> {
  const byRoot = new Map<number, Comment[]>();
  for (const comment of comments.values()) {
    if (comment.root_id === null) continue;
    const list = byRoot.get(comment.root_id) ?? [];
    list.push(comment);
    byRoot.set(comment.root_id, list);
  }
  for (const list of byRoot.values()) list.sort((a, b) => a.id - b.id);
  return byRoot;
}

/** Comments written at a moment of the media, in playback order. */
export function anchored(comments: ReadonlyMap<number, Comment>): Comment[] {
  return [...comments.values()]
    .filter((c) => c.position_seconds !== null)
    .sort((a, b) => (a.position_seconds ?? 0) - (b.position_seconds ?? 0) || a.id - b.id);
}

/** Those anchored in the last `window` seconds before `time`: what is "happening now". */
export function atMoment(list: readonly Comment[], time: number, window = 4): Comment[] {
  return list.filter((c) => {
    const at = c.position_seconds ?? -1;
    return at <= time && at > time - window;
  });
}
