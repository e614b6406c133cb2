/**
 * Your public face, edited: display name and bio (`PATCH /me/profile`, the server's refusals shown
 * under the field they concern) and avatar (`PUT`/`DELETE /me/avatar`, with a preview of the
 * chosen picture before it is sent).
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, type Schemas } from '../../api/client';
import { Avatar } from '../../components/Avatar';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Loading } from '../../components/States';
import { Section } from '../../components/social/Section';
import { useLoad } from '../../components/social/useLoad';
import { avatarError, profileError, type FieldError } from './profileErrors';

type MyProfile = Schemas['MyProfile'];

const NAME_MAX = 50;
const BIO_MAX = 500;

export function ProfileEditor() {
  const profile = useLoad((signal) => api.get<MyProfile>('/me/profile', { auth: 'required', signal }), 'me');
  const mine = profile.data;
  return (
    <Section title="Your public profile">
      <ErrorBanner error={profile.error} />
      {profile.loading && !mine && <Loading label="Loading your profile…" />}
      {mine && (
        <div className="flex flex-col gap-6">
          <AvatarEditor profile={mine} onChange={profile.setData} />
          <NameAndBio profile={mine} onChange={profile.setData} />
        </div>
      )}
    </Section>
  );
}

function NameAndBio({ profile, onChange }: { profile: MyProfile; onChange: (p: MyProfile) => void }) {
  const id = useId();
  const [name, setName] = useState(profile.display_name ?? '');
  const [bio, setBio] = useState(profile.bio ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FieldError | null>(null);
  const [saved, setSaved] = useState('');

  async function save(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved('');
    try {
      const change: { display_name?: string | null; bio?: string | null } = {};
      if (name.trim() !== (profile.display_name ?? ''))
        change.display_name = name.trim() === '' ? null : name;
      if (bio.trim() !== (profile.bio ?? '')) change.bio = bio.trim() === '' ? null : bio;
      const updated = await api.patch<MyProfile>('/me/profile', change, { auth: 'required' });
      onChange(updated);
      setName(updated.display_name ?? '');
      setBio(updated.bio ?? '');
      setSaved('Saved.');
    } catch (caught) {
      setError(profileError(caught));
    } finally {
      setBusy(false);
    }
  }

  const nameError = error?.field === 'display_name' ? error.message : null;
  const bioError = error?.field === 'bio' ? error.message : null;
  return (
    <form onSubmit={(event) => void save(event)} className="flex flex-col gap-4" noValidate>
      <div className="flex flex-col gap-1">
        <label htmlFor={`${id}-name`} className="text-sm font-medium">
          Display name
        </label>
        <input
          id={`${id}-name`}
          value={name}
          onChange={(event) => setName(event.target.value)}
          aria-invalid={nameError ? true : undefined}
          aria-describedby={`${id}-name-hint${nameError ? ` ${id}-name-error` : ''}`}
          className={`min-h-10 rounded-md border bg-white px-3 py-2 text-base ${nameError ? 'border-red-700' : 'border-slate-400'}`}
        />
        <p id={`${id}-name-hint`} className="text-sm text-slate-600">
          Shown beside your handle, up to {NAME_MAX} characters. Leave it empty to show your handle.
        </p>
        {nameError && (
          <p id={`${id}-name-error`} className="text-sm font-medium text-red-800">
            {nameError}
          </p>
        )}
      </div>
      <div className="flex flex-col gap-1">
        <label htmlFor={`${id}-bio`} className="text-sm font-medium">
          Bio
        </label>
        <textarea
          id={`${id}-bio`}
          value={bio}
          rows={4}
          onChange={(event) => setBio(event.target.value)}
          aria-invalid={bioError ? true : undefined}
          aria-describedby={`${id}-bio-hint${bioError ? ` ${id}-bio-error` : ''}`}
          className={`rounded-md border bg-white px-3 py-2 text-base ${bioError ? 'border-red-700' : 'border-slate-400'}`}
        />
        <p id={`${id}-bio-hint`} className="text-sm text-slate-600">
          A few words about you, up to {BIO_MAX} characters ({bio.length} so far).
        </p>
        {bioError && (
          <p id={`${id}-bio-error`} className="text-sm font-medium text-red-800">
            {bioError}
          </p>
        )}
      </div>
      {error && error.field === null && (
        <div
          role="alert"
          className="rounded-md border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-900"
        >
          {error.message}
        </div>
      )}
      {(nameError || bioError) && (
        <p role="alert" className="sr-only">
          {nameError ?? bioError}
        </p>
      )}
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save profile'}
        </Button>
        <p role="status" aria-live="polite" className="text-sm text-emerald-800">
          {saved}
        </p>
      </div>
    </form>
  );
}

function AvatarEditor({ profile, onChange }: { profile: MyProfile; onChange: (p: MyProfile) => void }) {
  const id = useId();
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const [inputKey, setInputKey] = useState(0);

  useEffect(() => {
    if (!file) {
      setPreview(null);
      return undefined;
    }
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);

  function choose(chosen: File | null) {
    setError(null);
    setStatus('');
    setFile(chosen);
  }

  async function upload() {
    if (!file) return;
    setBusy(true);
    setError(null);
    setStatus('');
    try {
      const updated = await api.put<MyProfile>('/me/avatar', file, {
        auth: 'required',
        headers: { 'content-type': file.type || 'application/octet-stream' },
      });
      onChange(updated);
      setFile(null);
      setInputKey((n) => n + 1);
      setStatus('Your new avatar is saved.');
    } catch (caught) {
      setError(avatarError(caught));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    setError(null);
    setStatus('');
    try {
      await api.delete('/me/avatar', { auth: 'required' });
      onChange({ ...profile, avatar: null });
      setStatus('Your avatar is removed.');
    } catch (caught) {
      setError(avatarError(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="flex flex-wrap items-start gap-4">
      <div className="flex flex-col items-center gap-1">
        {preview ? (
          <img
            src={preview}
            alt="Preview of the chosen picture"
            width={96}
            height={96}
            className="h-24 w-24 rounded-full object-cover ring-2 ring-indigo-700"
          />
        ) : (
          <span data-testid="my-avatar">
            <Avatar
              images={profile.avatar}
              name={profile.display_name}
              handle={profile.handle}
              size={96}
              alt={profile.avatar ? 'Your avatar' : 'No avatar yet'}
            />
          </span>
        )}
        {preview && <span className="text-xs text-slate-600">Preview</span>}
      </div>
      <div className="flex min-w-0 flex-1 flex-col gap-2">
        <label htmlFor={`${id}-file`} className="text-sm font-medium">
          Avatar picture
        </label>
        <input
          key={inputKey}
          id={`${id}-file`}
          type="file"
          accept="image/jpeg,image/png,image/webp,image/gif"
          aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
          aria-invalid={error ? true : undefined}
          onChange={(event) => choose(event.target.files?.[0] ?? null)}
          className="max-w-full text-sm file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-2 file:font-semibold"
        />
        <p id={`${id}-hint`} className="text-sm text-slate-600">
          A JPEG, PNG, WebP or GIF picture up to 10 MB. It is cropped to a square.
        </p>
        {error && (
          <p id={`${id}-error`} role="alert" className="text-sm font-medium text-red-800">
            {error}
          </p>
        )}
        <div className="flex flex-wrap gap-2">
          <Button disabled={busy || !file} onClick={() => void upload()}>
            {busy && file ? 'Uploading…' : 'Upload avatar'}
          </Button>
          {file && (
            <Button variant="secondary" disabled={busy} onClick={() => choose(null)}>
              Cancel
            </Button>
          )}
          {profile.avatar && !file && (
            <Button variant="secondary" disabled={busy} onClick={() => void remove()}>
              Remove avatar
            </Button>
          )}
        </div>
        <p role="status" aria-live="polite" className="text-sm text-emerald-800">
          {status}
        </p>
      </div>
    </div>
  );
}
