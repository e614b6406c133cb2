import { useState, type FormEvent } from 'react';
import { api, type Schemas } from '../../api/client';
import { ApiError } from '../../api/errors';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Empty, Loading } from '../../components/States';
import { TextField } from '../../components/TextField';
import { Section } from '../../components/social/Section';
import { useLoad } from '../../components/social/useLoad';
import { videoIdFrom } from './videoId';

type HeldWord = Schemas['HeldWord'];

/** The whole list, page after page (it is short: a page of 100 is usually all of it). */
async function allHeldWords(signal: AbortSignal): Promise<HeldWord[]> {
  const words: HeldWord[] = [];
  let cursor: string | null = null;
  do {
    const query: Record<string, string | number> = { limit: 100 };
    if (cursor) query.cursor = cursor;
    const page = await api.get<Schemas['HeldWordPage']>('/moderation/held-words', {
      auth: 'required',
      signal,
      query,
    });
    words.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return words;
}

/** Words and phrases that send a comment to the review queue instead of publishing it. */
export function HeldWords() {
  const words = useLoad(allHeldWords, 'held-words');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const videoText = String(form.get('video')).trim();
    const videoId = videoText ? videoIdFrom(videoText) : null;
    setError(null);
    if (videoText && !videoId) {
      setError(
        new ApiError(422, 'invalid_video', 'That does not hold a video id: paste the video’s link or id.'),
      );
      return;
    }
    setBusy(true);
    try {
      await api.post(
        '/moderation/held-words',
        { word: String(form.get('word')), video_id: videoId, reason: String(form.get('reason')) },
        { auth: 'required' },
      );
      formElement.reset();
      words.reload();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  async function remove(word: HeldWord) {
    setError(null);
    try {
      await api.delete(`/moderation/held-words/${word.id}`, { auth: 'required' });
      words.setData((list) => (list ?? []).filter((w) => w.id !== word.id));
    } catch (caught) {
      setError(caught);
    }
  }

  const list = words.data ?? [];
  return (
    <div className="flex flex-col gap-4">
      <Section title="Hold comments that contain">
        <form onSubmit={(e) => void add(e)} className="grid gap-3 sm:grid-cols-2">
          <div className="sm:col-span-2">
            <ErrorBanner error={error} />
          </div>
          <TextField
            label="Word or phrase"
            name="word"
            required
            maxLength={100}
            hint="Matched whole, in any case."
          />
          <TextField
            label="On one video (optional)"
            name="video"
            hint="Its link or id; empty: every video."
          />
          <div className="sm:col-span-2">
            <TextField label="Reason" name="reason" maxLength={500} hint="Kept in the audit log." />
          </div>
          <div>
            <Button type="submit" disabled={busy}>
              Add
            </Button>
          </div>
        </form>
      </Section>
      <Section title="Held words">
        <ErrorBanner error={words.error} />
        {words.loading && <Loading />}
        {!words.loading && !words.error && list.length === 0 && <Empty>No words are held.</Empty>}
        <ul className="flex flex-col divide-y divide-slate-100">
          {list.map((word) => (
            <li key={word.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
              <span>
                <span className="font-semibold">{word.word}</span>{' '}
                <span className="text-sm text-slate-600">
                  {word.video_id ? 'on one video' : 'everywhere'}
                </span>
              </span>
              <Button
                variant="secondary"
                aria-label={`Stop holding “${word.word}”`}
                onClick={() => void remove(word)}
              >
                Remove
              </Button>
            </li>
          ))}
        </ul>
      </Section>
    </div>
  );
}
