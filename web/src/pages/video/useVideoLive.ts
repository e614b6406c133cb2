/**
 * A video's live state for the page: the catalog row, its comments, rating totals and slow mode,
 * loaded by REST and kept current by the `video:{id}` channel. A subscription that could not
 * recover what it missed (and the first one) reloads the REST side, merged by id so nothing
 * shows twice and nothing seen removed comes back.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, type Schemas } from '../../api/client';
import { liveClient } from '../../components/video/liveClient';
import {
  applyRating,
  applyVideoEvent,
  EMPTY_VIDEO_VIEW,
  videoEvent,
  withComments,
  type Comment,
  type VideoView,
} from '../../realtime';
import { useChannel } from '../../realtime/react';

type Video = Schemas['Video'];
type Page = Schemas['CommentPage'];
type Summary = Schemas['RatingSummary'];

export interface VideoLive {
  video: Video | null;
  view: VideoView;
  /** The signed-in viewer's own stars (null: none, or signed out). */
  mine: number | null;
  /** Why the video could not be loaded (the page shows nothing else then). */
  error: unknown;
  /** Cursor of the next page of top-level comments (null: all loaded). */
  moreComments: string | null;
  live: boolean;
  loadMoreComments(): Promise<void>;
  loadReplies(rootId: number): Promise<void>;
  /** Put a comment from a write's answer in (the event with the same id merges with it). */
  add(comment: Comment): void;
  drop(commentId: number): void;
  rated(summary: Summary): void;
}

/** Timeline pages loaded at most (100 anchored comments each). */
const TIMELINE_PAGES = 5;

export function useVideoLive(videoId: string): VideoLive {
  const [video, setVideo] = useState<Video | null>(null);
  const [view, setView] = useState<VideoView>(EMPTY_VIDEO_VIEW);
  const [mine, setMine] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [moreComments, setMoreComments] = useState<string | null>(null);
  const current = useRef(videoId);
  current.current = videoId;

  const merge = useCallback((comments: readonly Comment[]) => {
    setView((v) => withComments(v, comments));
  }, []);

  const reload = useCallback(async () => {
    const id = videoId;
    try {
      const [row, page, summary, slow] = await Promise.all([
        api.get<Video>(`/videos/${id}`),
        api.get<Page>(`/videos/${id}/comments`, { query: { limit: 30 } }),
        api.get<Summary>(`/videos/${id}/rating`),
        api.get<Schemas['SlowMode']>(`/videos/${id}/slow-mode`),
      ]);
      if (current.current !== id) return;
      setVideo(row);
      merge(page.items);
      setMoreComments(page.next_cursor);
      setView((v) => ({ ...applyRating(v, summary), slowModeSeconds: slow.seconds }));
      setMine(summary.mine);
      let cursor: string | null = null;
      for (let i = 0; i < TIMELINE_PAGES; i += 1) {
        const timeline: Page = await api.get<Page>(`/videos/${id}/comments/timeline`, {
          query: { limit: 100, cursor: cursor ?? undefined },
        });
        if (current.current !== id) return;
        merge(timeline.items);
        cursor = timeline.next_cursor;
        if (cursor === null) break;
      }
    } catch (failure) {
      if (current.current === id) setError(failure);
    }
  }, [videoId, merge]);

  useEffect(() => {
    setVideo(null);
    setView(EMPTY_VIDEO_VIEW);
    setMine(null);
    setError(null);
    void reload();
  }, [reload]);

  const status = useChannel(
    `video:${videoId}`,
    {
      onSubscribed: (info) => {
        // The first confirmation too: events sent before it are in the REST answer loaded now.
        if (!info.recovered) void reload();
      },
      onPublication: (publication) => {
        const event = videoEvent(publication);
        if (event === null) return;
        if (event.type === 'video.updated') setVideo(event.video as Video);
        setView((v) => applyVideoEvent(v, event));
      },
    },
    liveClient(),
  );

  const loadMoreComments = useCallback(async () => {
    if (moreComments === null) return;
    const page = await api.get<Page>(`/videos/${videoId}/comments`, {
      query: { limit: 30, cursor: moreComments },
    });
    merge(page.items);
    setMoreComments(page.next_cursor);
  }, [videoId, moreComments, merge]);

  const loadReplies = useCallback(
    async (rootId: number) => {
      let cursor: string | null = null;
      do {
        const page: Page = await api.get<Page>(`/comments/${rootId}/replies`, {
          query: { limit: 100, cursor: cursor ?? undefined },
        });
        merge(page.items);
        cursor = page.next_cursor;
      } while (cursor !== null);
    },
    [merge],
  );

  const drop = useCallback((commentId: number) => {
    setView((v) => {
      const comment = v.comments.get(commentId);
      const root = comment?.root_id ?? null;
      return applyVideoEvent(v, {
        type: 'comment.removed',
        video_id: comment?.video_id ?? '',
        comment_id: commentId,
        root_id: root,
        reason: 'deleted',
      });
    });
  }, []);

  const rated = useCallback((summary: Summary) => {
    setView((v) => applyRating(v, summary));
    setMine(summary.mine);
  }, []);

  return {
    video,
    view,
    mine,
    error,
    moreComments,
    live: status.subscribed !== null,
    loadMoreComments,
    loadReplies,
    add: (comment) => merge([comment]),
    drop,
    rated,
  };
}
