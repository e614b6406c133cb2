/**
 * The video page: the player (hls.js loaded only here), the live rating, and the live comments:
 * threads, replies, edits, deletions and reports, plus the comments and reactions anchored to a
 * moment of the video, shown when playback reaches it and as marks on the bar under the player.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api, type Schemas } from '../../api/client';
import { useMe, useSignedIn } from '../../api/useSession';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { PageTitle } from '../../components/PageTitle';
import { Empty, Loading } from '../../components/States';
import { Player } from '../../components/video/Player';
import { SeekMarks } from '../../components/video/SeekMarks';
import { StarRating } from '../../components/video/StarRating';
import { formatPosition } from '../../components/video/time';
import type { Comment } from '../../realtime';
import { CommentForm } from './CommentForm';
import { CommentItem } from './CommentItem';
import { anchored, atMoment, isReaction, REACTIONS, repliesByRoot, topLevel } from './threads';
import { useVideoLive } from './useVideoLive';

type Playback = Schemas['media_serving_Playback'];
type Summary = Schemas['RatingSummary'];

export default function VideoPage() {
  const { videoId = '' } = useParams();
  const live = useVideoLive(videoId);
  const signedIn = useSignedIn();
  const me = useMe();
  const staff = me?.role === 'moderator' || me?.role === 'admin';
  const player = useRef<HTMLVideoElement | null>(null);
  const [time, setTime] = useState(0);
  const [duration, setDuration] = useState<number | null>(null);
  const [playback, setPlayback] = useState<Playback | null>(null);
  const [playbackError, setPlaybackError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [rating, setRating] = useState(false);
  const [openThreads, setOpenThreads] = useState<ReadonlySet<number>>(new Set());

  const ready = live.video?.status === 'ready';
  useEffect(() => {
    if (!ready) return undefined;
    const controller = new AbortController();
    setPlaybackError(null);
    api
      .get<Playback>(`/videos/${videoId}/playback`, { signal: controller.signal })
      .then(setPlayback)
      .catch((failure: unknown) => {
        if (!controller.signal.aborted) setPlaybackError(failure);
      });
    return () => controller.abort();
  }, [videoId, ready]);

  const { comments } = live.view;
  const threads = useMemo(() => topLevel(comments), [comments]);
  const replies = useMemo(() => repliesByRoot(comments), [comments]);
  const marks = useMemo(() => anchored(comments), [comments]);
  const now = useMemo(() => atMoment(marks, time), [marks, time]);
  const mediaDuration = duration ?? live.video?.duration_seconds ?? null;

  const seek = useCallback((seconds: number) => {
    const video = player.current;
    if (!video) return;
    video.currentTime = seconds;
    setTime(seconds);
  }, []);

  async function post(body: string, extra: Schemas['NewComment'] = { body }) {
    const created = await api.post<Comment>(
      `/videos/${videoId}/comments`,
      { ...extra, body },
      { auth: 'required' },
    );
    live.add(created);
  }

  async function react(emoji: string) {
    setActionError(null);
    try {
      await post(emoji, { body: emoji, position_seconds: player.current?.currentTime ?? time });
    } catch (failure) {
      setActionError(failure);
    }
  }

  async function rate(stars: number | null) {
    setRating(true);
    setActionError(null);
    try {
      const summary =
        stars === null
          ? await api.delete<Summary>(`/videos/${videoId}/rating`, { auth: 'required' })
          : await api.put<Summary>(`/videos/${videoId}/rating`, { stars }, { auth: 'required' });
      live.rated(summary);
    } catch (failure) {
      setActionError(failure);
    } finally {
      setRating(false);
    }
  }

  async function showReplies(rootId: number) {
    setOpenThreads((open) => new Set(open).add(rootId));
    try {
      await live.loadReplies(rootId);
    } catch (failure) {
      setActionError(failure);
    }
  }

  if (live.error) {
    return (
      <section>
        <PageTitle>Video</PageTitle>
        <ErrorBanner error={live.error} />
        <p className="mt-4">
          <Link className="text-indigo-800 underline" to="/">
            Back to the videos
          </Link>
        </p>
      </section>
    );
  }
  if (!live.video) return <Loading label="Loading the video…" />;
  const video = live.video;

  return (
    <article className="flex flex-col gap-6">
      <div>
        <PageTitle>{video.title}</PageTitle>
        <p className="-mt-2 text-sm text-slate-600">
          by @{video.owner.handle}
          {video.duration_seconds !== null && ` · ${formatPosition(video.duration_seconds)}`}
          {video.visibility !== 'public' && ` · ${video.visibility}`}
        </p>
      </div>

      <section aria-label="Player">
        {ready && playback && (
          <Player
            ref={player}
            src={playback.master_url}
            poster={playback.poster_url}
            title={video.title}
            onTime={setTime}
            onDuration={setDuration}
          />
        )}
        {ready && !playback && !playbackError && <Loading label="Loading the player…" />}
        <ErrorBanner error={playbackError} />
        {!ready && (
          <Empty>
            {video.status === 'failed'
              ? `This video could not be processed${video.failure_reason ? `: ${video.failure_reason}` : '.'}`
              : 'This video is not ready to play yet.'}
          </Empty>
        )}
        <SeekMarks marks={marks} duration={mediaDuration} time={time} isReaction={isReaction} onSeek={seek} />
        <div className="mt-2 min-h-8" data-testid="now-showing">
          {now.length > 0 && (
            <ul className="flex flex-wrap gap-2" aria-label="At this moment">
              {now.map((comment) =>
                isReaction(comment) ? (
                  <li key={comment.id} className="text-2xl" title={`@${comment.author.handle}`}>
                    {comment.body}
                  </li>
                ) : (
                  <li
                    key={comment.id}
                    className="rounded-full bg-indigo-50 px-3 py-1 text-sm text-indigo-950"
                  >
                    <span className="font-semibold">@{comment.author.handle}</span> {comment.body}
                  </li>
                ),
              )}
            </ul>
          )}
        </div>
        {signedIn && ready && (
          <div
            className="mt-2 flex flex-wrap items-center gap-1"
            role="group"
            aria-label="React at this moment"
          >
            <span className="mr-1 text-sm text-slate-600" aria-hidden="true">
              React:
            </span>
            {REACTIONS.map((emoji) => (
              <button
                key={emoji}
                type="button"
                onClick={() => void react(emoji)}
                aria-label={`React ${emoji} at ${formatPosition(time)}`}
                className="min-h-10 min-w-10 rounded-full text-xl hover:bg-slate-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-800"
              >
                {emoji}
              </button>
            ))}
          </div>
        )}
      </section>

      <section aria-labelledby="rating-heading" className="flex flex-col gap-2">
        <h2 id="rating-heading" className="text-lg font-semibold">
          Rating
        </h2>
        <StarRating
          mean={live.view.rating?.mean ?? null}
          count={live.view.rating?.count ?? 0}
          mine={live.mine}
          disabled={rating}
          onRate={signedIn ? (stars) => void rate(stars) : null}
          onClear={() => void rate(null)}
        />
        {!signedIn && (
          <p className="text-sm text-slate-600">
            <Link to="/signin" className="text-indigo-800 underline">
              Sign in
            </Link>{' '}
            to rate and comment.
          </p>
        )}
      </section>

      {video.description && <p className="whitespace-pre-wrap text-slate-800">{video.description}</p>}
      <ErrorBanner error={actionError} />

      <section aria-labelledby="comments-heading" className="flex flex-col gap-4">
        <h2 id="comments-heading" className="text-lg font-semibold">
          Comments{' '}
          <span className="text-sm font-normal text-slate-600">
            {live.live ? '· live' : '· connecting…'}
            {live.view.slowModeSeconds
              ? ` · slow mode: one comment every ${live.view.slowModeSeconds} s`
              : ''}
          </span>
        </h2>
        {signedIn && (
          <CommentForm
            label="Add a comment"
            submitLabel="Comment"
            moment={ready && playback && time > 0 ? time : undefined}
            onSubmit={(body, atMomentChosen) =>
              post(body, {
                body,
                position_seconds: atMomentChosen ? (player.current?.currentTime ?? time) : null,
              })
            }
          />
        )}
        {threads.length === 0 && <Empty>No comments yet.</Empty>}
        <ul className="flex flex-col gap-3" aria-label="Comments">
          {threads.map((comment) => {
            const thread = replies.get(comment.id) ?? [];
            const total = Math.max(comment.reply_count, thread.length);
            const open = openThreads.has(comment.id);
            return (
              <CommentItem
                key={comment.id}
                comment={comment}
                meId={me?.id ?? null}
                staff={staff}
                onSeek={seek}
                onReply={async (root, body) => post(body, { body, parent_id: root.id })}
                onChanged={live.add}
                onDeleted={live.drop}
              >
                {total > thread.length && !open && (
                  <button
                    type="button"
                    className="mt-2 text-sm font-medium text-indigo-800 hover:underline"
                    onClick={() => void showReplies(comment.id)}
                  >
                    Show {total === 1 ? '1 reply' : `${total} replies`}
                  </button>
                )}
                {thread.length > 0 && (
                  <ul
                    className="mt-3 flex flex-col gap-2 border-l-2 border-slate-200 pl-3"
                    aria-label={`Replies to @${comment.author.handle}`}
                  >
                    {thread.map((reply) => (
                      <CommentItem
                        key={reply.id}
                        comment={reply}
                        meId={me?.id ?? null}
                        staff={staff}
                        onSeek={seek}
                        onReply={async (_to, body) => post(body, { body, parent_id: reply.id })}
                        onChanged={live.add}
                        onDeleted={live.drop}
                      />
                    ))}
                  </ul>
                )}
              </CommentItem>
            );
          })}
        </ul>
        {live.moreComments !== null && (
          <Button variant="secondary" onClick={() => void live.loadMoreComments().catch(setActionError)}>
            Show older comments
          </Button>
        )}
      </section>
    </article>
  );
}
