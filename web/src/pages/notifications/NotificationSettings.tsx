/** Which kinds of notification you get (`GET`/`PUT /me/notification-settings`): one switch per kind. */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { api, type Schemas } from '../../api/client';
import { ErrorBanner } from '../../components/ErrorBanner';
import { PageTitle } from '../../components/PageTitle';
import { Loading } from '../../components/States';
import { useLoad } from '../../components/social/useLoad';
import { KIND_WORDS, KINDS, type NotificationKind } from './notifications';

type Settings = Schemas['NotificationSettings'];

export function NotificationSettings() {
  const settings = useLoad(
    (signal) => api.get<Settings>('/me/notification-settings', { auth: 'required', signal }),
    'settings',
  );
  const [saving, setSaving] = useState<NotificationKind | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string>('');

  async function change(kind: NotificationKind, on: boolean) {
    setSaving(kind);
    setError(null);
    setSaved('');
    // Shown at once (a switch that lags behind the click looks broken), put back if refused.
    settings.setData((current) => (current ? { ...current, [kind]: on } : current));
    try {
      settings.setData(
        await api.put<Settings>('/me/notification-settings', { [kind]: on }, { auth: 'required' }),
      );
      setSaved(`${KIND_WORDS[kind]}: ${on ? 'on' : 'off'}. Saved.`);
    } catch (caught) {
      settings.setData((current) => (current ? { ...current, [kind]: !on } : current));
      setError(caught);
    } finally {
      setSaving(null);
    }
  }

  const current = settings.data;
  return (
    <section className="flex flex-col gap-4">
      <PageTitle>Notification settings</PageTitle>
      <p className="text-sm">
        <Link className="text-indigo-700 underline" to="/notifications">
          Back to your notifications
        </Link>
      </p>
      <ErrorBanner error={settings.error ?? error} />
      {settings.loading && <Loading label="Loading your settings…" />}
      {current && (
        <fieldset className="flex flex-col gap-2 rounded-lg border border-slate-200 bg-white p-4">
          <legend className="px-1 text-lg font-semibold">Tell me about</legend>
          {KINDS.map((kind) => (
            <label key={kind} className="flex min-h-10 items-center gap-3">
              <input
                type="checkbox"
                className="h-5 w-5"
                checked={current[kind]}
                disabled={saving !== null}
                onChange={(event) => void change(kind, event.target.checked)}
              />
              <span>{KIND_WORDS[kind]}</span>
            </label>
          ))}
        </fieldset>
      )}
      <p role="status" aria-live="polite" className="text-sm text-slate-700">
        {saved}
      </p>
    </section>
  );
}
