import { useState, type FormEvent } from 'react';
import { api, type Schemas } from '../../api/client';
import { ApiError } from '../../api/errors';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { TextField } from '../../components/TextField';
import { Section } from '../../components/social/Section';
import { SelectField } from './fields';
import { duration, videoIdFrom } from './videoId';

const PACES = [0, 5, 10, 30, 60, 300, 600, 3600];

/** One comment per person every so many seconds on a video; viewers see the change live. */
export function SlowMode() {
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const videoId = videoIdFrom(String(form.get('video')));
    setError(null);
    setDone(null);
    if (!videoId) {
      setError(
        new ApiError(422, 'invalid_video', 'That does not hold a video id: paste the video’s link or id.'),
      );
      return;
    }
    setBusy(true);
    try {
      const pace = await api.put<Schemas['SlowMode']>(
        `/videos/${videoId}/slow-mode`,
        { seconds: Number(form.get('seconds')), reason: String(form.get('reason')) },
        { auth: 'required' },
      );
      setDone(
        pace.seconds === 0
          ? 'Slow mode is off on that video.'
          : `Slow mode is on: one comment per person every ${duration(pace.seconds)}.`,
      );
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title="Slow mode">
      <form onSubmit={(e) => void submit(e)} className="grid gap-3 sm:grid-cols-2">
        <div className="sm:col-span-2">
          <ErrorBanner error={error} />
          <p role="status" className="text-sm text-emerald-800">
            {done}
          </p>
        </div>
        <TextField label="Video" name="video" required hint="Its link or id." autoComplete="off" />
        <SelectField label="Pace" name="seconds" defaultValue="30">
          {PACES.map((seconds) => (
            <option key={seconds} value={seconds}>
              {seconds === 0 ? 'Off' : `One comment every ${duration(seconds)}`}
            </option>
          ))}
        </SelectField>
        <div className="sm:col-span-2">
          <TextField label="Reason" name="reason" maxLength={500} hint="Kept in the audit log." />
        </div>
        <div>
          <Button type="submit" disabled={busy}>
            Set slow mode
          </Button>
        </div>
      </form>
    </Section>
  );
}
