/**
 * The comments and reactions anchored to the media, as marks along a bar under the player. Marks
 * that would overlap (the same 1/100th of the video) become one button; each seeks to its moment.
 */
import type { Comment } from '../../realtime';
import { groupMarks, type Mark } from './marks';
import { formatPosition } from './time';

function describe(group: Mark, isReaction: (comment: Comment) => boolean): string {
  const reactions = group.comments.filter(isReaction).length;
  const written = group.comments.length - reactions;
  const parts = [
    written > 0 ? `${written} ${written === 1 ? 'comment' : 'comments'}` : '',
    reactions > 0 ? `${reactions} ${reactions === 1 ? 'reaction' : 'reactions'}` : '',
  ].filter(Boolean);
  return `Go to ${formatPosition(group.at)}: ${parts.join(' and ')}`;
}

export function SeekMarks({
  marks,
  duration,
  time,
  isReaction,
  onSeek,
}: {
  marks: readonly Comment[];
  duration: number | null;
  time: number;
  isReaction: (comment: Comment) => boolean;
  onSeek: (seconds: number) => void;
}) {
  if (!duration || duration <= 0) return null;
  const percent = (seconds: number) => `${Math.min(100, Math.max(0, (seconds / duration) * 100))}%`;
  return (
    <div className="mt-2" data-testid="seek-marks" role="group" aria-label="Moments with comments">
      <div className="relative h-6 rounded bg-slate-200">
        <div
          className="absolute inset-y-0 left-0 rounded bg-indigo-200"
          style={{ width: percent(time) }}
          aria-hidden="true"
        />
        {groupMarks(marks, duration).map((group) => {
          const onlyReactions = group.comments.every(isReaction);
          return (
            <button
              key={group.comments[0]?.id}
              type="button"
              data-comment-ids={group.comments.map((c) => c.id).join(' ')}
              onClick={() => onSeek(group.at)}
              title={group.comments.map((c) => `@${c.author.handle}: ${c.body}`).join('\n')}
              aria-label={describe(group, isReaction)}
              className={`absolute top-0 h-6 w-3 -translate-x-1/2 rounded-sm focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-indigo-900 ${onlyReactions ? 'bg-amber-500' : 'bg-indigo-700'}`}
              style={{ left: percent(group.at) }}
            />
          );
        })}
      </div>
    </div>
  );
}
