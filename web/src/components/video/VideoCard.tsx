/** A video in a list: its poster (asked for once the card is near the screen), title, owner and length. */
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { api, type Schemas } from '../../api/client';
import { formatPosition } from './time';

type Video = Schemas['Video'];

const STATUS_WORDS: Record<Video['status'], string> = {
  draft: 'No media yet',
  uploaded: 'Waiting to be processed',
  processing: 'Processing',
  ready: '',
  failed: 'Could not be processed',
};

function usePoster(video: Video, element: React.RefObject<HTMLElement>): string | null {
  const [poster, setPoster] = useState<string | null>(null);
  useEffect(() => {
    const node = element.current;
    if (video.status !== 'ready' || !node) return undefined;
    const controller = new AbortController();
    const observer = new IntersectionObserver((entries) => {
      if (!entries.some((entry) => entry.isIntersecting)) return;
      observer.disconnect();
      api
        .get<Schemas['media_serving_Playback']>(`/videos/${video.id}/playback`, { signal: controller.signal })
        .then((playback) => setPoster(playback.poster_url))
        .catch(() => undefined); // the card reads fine without its picture
    });
    observer.observe(node);
    return () => {
      observer.disconnect();
      controller.abort();
    };
  }, [video.id, video.status, element]);
  return poster;
}

export function VideoCard({ video }: { video: Video }) {
  const card = useRef<HTMLLIElement>(null);
  const poster = usePoster(video, card);
  return (
    <li ref={card} className="overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm">
      <Link
        to={`/watch/${video.id}`}
        className="block focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-800"
      >
        <div className="relative aspect-video bg-slate-800">
          {poster && <img src={poster} alt="" className="h-full w-full object-cover" loading="lazy" />}
          {video.duration_seconds !== null && (
            <span className="absolute bottom-2 right-2 rounded bg-black/80 px-1.5 text-xs font-semibold text-white">
              {formatPosition(video.duration_seconds)}
            </span>
          )}
        </div>
        <div className="p-3">
          <h2 className="font-semibold leading-snug text-slate-950">{video.title}</h2>
          <p className="text-sm text-slate-600">@{video.owner.handle}</p>
          {STATUS_WORDS[video.status] && (
            <p className="mt-1 text-xs text-amber-800">{STATUS_WORDS[video.status]}</p>
          )}
        </div>
      </Link>
    </li>
  );
}
