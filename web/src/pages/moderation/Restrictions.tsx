import { useState, type FormEvent } from 'react';
import { api, type Schemas } from '../../api/client';
import { ApiError } from '../../api/errors';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Empty, Loading } from '../../components/States';
import { TextField } from '../../components/TextField';
import { PersonLink } from '../../components/social/PersonLink';
import { Section } from '../../components/social/Section';
import { useLoad } from '../../components/social/useLoad';
import { when } from '../../components/social/when';
import { SelectField } from './fields';
import { videoIdFrom } from './videoId';

type Restriction = Schemas['Restriction'];

const LENGTHS = [
  { seconds: 600, label: '10 minutes' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86400, label: '1 day' },
  { seconds: 7 * 86400, label: '1 week' },
  { seconds: 30 * 86400, label: '30 days' },
];

/** Time a user out or ban them, on one video or everywhere; the ones in force, each with a Lift. */
export function Restrictions() {
  const list = useLoad(
    (signal) =>
      api.get<Schemas['RestrictionPage']>('/moderation/restrictions', {
        auth: 'required',
        signal,
        query: { limit: 50 },
      }),
    'restrictions',
  );
  const items = list.data?.items ?? [];
  return (
    <div className="flex flex-col gap-4">
      <NewRestriction onAdded={list.reload} />
      <Section title="In force">
        <ErrorBanner error={list.error} />
        {list.loading && <Loading />}
        {!list.loading && !list.error && items.length === 0 && (
          <Empty>No timeouts or bans are in force.</Empty>
        )}
        <ul className="flex flex-col divide-y divide-slate-100">
          {items.map((restriction) => (
            <RestrictionRow key={restriction.id} restriction={restriction} onLifted={list.reload} />
          ))}
        </ul>
      </Section>
    </div>
  );
}

function NewRestriction({ onAdded }: { onAdded: () => void }) {
  const [kind, setKind] = useState<'timeout' | 'ban'>('timeout');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const handle = String(form.get('handle')).trim().replace(/^@/, '');
    const videoText = String(form.get('video')).trim();
    const videoId = videoText ? videoIdFrom(videoText) : null;
    const length = String(form.get('length'));
    setError(null);
    setDone(null);
    if (videoText && !videoId) {
      setError(
        new ApiError(422, 'invalid_video', 'That does not hold a video id: paste the video’s link or id.'),
      );
      return;
    }
    setBusy(true);
    try {
      const user = await api.get<Schemas['PublicUser']>(`/users/${encodeURIComponent(handle)}`);
      await api.post<Restriction>(
        '/moderation/restrictions',
        {
          user_id: user.id,
          kind,
          video_id: videoId,
          seconds: length === 'lifted' ? null : Number(length),
          reason: String(form.get('reason')),
        },
        { auth: 'required' },
      );
      setDone(`@${user.handle} ${kind === 'ban' ? 'banned' : 'timed out'}.`);
      formElement.reset();
      setKind('timeout');
      onAdded();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title="Time out or ban someone">
      <form onSubmit={(e) => void submit(e)} className="grid gap-3 sm:grid-cols-2">
        <div className="sm:col-span-2">
          <ErrorBanner error={error} />
          <p role="status" className="text-sm text-emerald-800">
            {done}
          </p>
        </div>
        <TextField label="Handle" name="handle" required autoComplete="off" />
        <SelectField
          label="What"
          name="kind"
          value={kind}
          onChange={(e) => setKind(e.target.value === 'ban' ? 'ban' : 'timeout')}
        >
          <option value="timeout">Timeout: no commenting</option>
          <option value="ban">Ban: no commenting, rating or reporting</option>
        </SelectField>
        <SelectField label="For how long" name="length" defaultValue="600">
          {LENGTHS.map((l) => (
            <option key={l.seconds} value={l.seconds}>
              {l.label}
            </option>
          ))}
          {kind === 'ban' && <option value="lifted">Until lifted</option>}
        </SelectField>
        <TextField label="On one video (optional)" name="video" hint="Its link or id; empty: everywhere." />
        <div className="sm:col-span-2">
          <TextField label="Reason" name="reason" maxLength={500} hint="Kept in the audit log." />
        </div>
        <div>
          <Button type="submit" variant="danger" disabled={busy}>
            {kind === 'ban' ? 'Ban' : 'Time out'}
          </Button>
        </div>
      </form>
    </Section>
  );
}

function RestrictionRow({ restriction, onLifted }: { restriction: Restriction; onLifted: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function lift() {
    setBusy(true);
    setError(null);
    try {
      await api.post(`/moderation/restrictions/${restriction.id}/lift`, { reason: '' }, { auth: 'required' });
      onLifted();
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  }

  return (
    <li className="flex flex-col gap-1 py-2">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="text-sm">
          <PersonLink handle={restriction.user.handle} />{' '}
          <span className="font-semibold">{restriction.kind === 'ban' ? 'banned' : 'timed out'}</span>{' '}
          {restriction.video_id ? 'on one video' : 'everywhere'},{' '}
          {restriction.ends_at ? `until ${when(restriction.ends_at)}` : 'until lifted'}
          {restriction.created_by && <> · by @{restriction.created_by.handle}</>}
          {restriction.reason && <> · “{restriction.reason}”</>}
        </div>
        <Button
          variant="secondary"
          disabled={busy}
          onClick={() => void lift()}
          aria-label={`Lift the ${restriction.kind} of @${restriction.user.handle}`}
        >
          Lift
        </Button>
      </div>
      <ErrorBanner error={error} />
    </li>
  );
}
