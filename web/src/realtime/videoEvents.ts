/**
 * What a client does with each `video:{id}` event (docs/protocol.md, "What a client does with
 * each event"), as pure functions over a view of the video's live state, so every page applies
 * them the same way and REST pages merge in without bringing removed comments back.
 */

import type { Comment, Publication, VideoEvent } from './types';

export interface RatingTotals {
  version: number;
  count: number;
  mean: number | null;
  histogram: number[];
}

export interface VideoView {
  /** Comments shown, by id (threads included: replies carry `root_id`). */
  comments: ReadonlyMap<number, Comment>;
  /** Ids seen removed: dropped from REST pages loaded later too. */
  removed: ReadonlySet<number>;
  rating: RatingTotals | null;
  slowModeSeconds: number | null;
}

export const EMPTY_VIDEO_VIEW: VideoView = {
  comments: new Map(),
  removed: new Set(),
  rating: null,
  slowModeSeconds: null,
};

const KNOWN = new Set([
  'comment.created',
  'comment.edited',
  'comment.removed',
  'rating',
  'slow_mode',
  'video.updated',
]);

/** The publication's event, or null for a type this client does not know (to be ignored). */
export function videoEvent(publication: Publication): VideoEvent | null {
  const data = publication.data as { type?: unknown } | null;
  return data !== null && typeof data === 'object' && typeof data.type === 'string' && KNOWN.has(data.type)
    ? (data as VideoEvent)
    : null;
}

export function applyVideoEvent(view: VideoView, event: VideoEvent): VideoView {
  switch (event.type) {
    case 'comment.created':
    case 'comment.edited':
      return withComments(view, [event.comment]);
    case 'comment.removed': {
      const comments = new Map(view.comments);
      comments.delete(event.comment_id);
      if (event.root_id === null) {
        // Hiding a top-level comment hides its whole thread.
        for (const [id, comment] of comments) if (comment.root_id === event.comment_id) comments.delete(id);
      }
      return { ...view, comments, removed: new Set(view.removed).add(event.comment_id) };
    }
    case 'rating':
      return applyRating(view, event);
    case 'slow_mode':
      return { ...view, slowModeSeconds: event.seconds };
    default:
      return view;
  }
}

/** Add comments from a REST page (or an event), leaving out those seen removed and their threads. */
export function withComments(view: VideoView, comments: readonly Comment[]): VideoView {
  const next = new Map(view.comments);
  for (const comment of comments) {
    if (view.removed.has(comment.id)) continue;
    if (comment.root_id !== null && view.removed.has(comment.root_id)) continue;
    next.set(comment.id, comment);
  }
  return { ...view, comments: next };
}

/** Rating totals from an event or from `GET /videos/{id}/rating`: never an older version over a newer one. */
export function applyRating(view: VideoView, totals: RatingTotals): VideoView {
  if (view.rating !== null && totals.version <= view.rating.version) return view;
  const { version, count, mean, histogram } = totals;
  return { ...view, rating: { version, count, mean, histogram } };
}
