import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { api } from '../../api/client';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { TextField } from '../../components/TextField';

/** Go to someone's profile by handle (checked first, so a typo is told here, not on a blank page). */
export function FindPerson() {
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const handle = String(new FormData(event.currentTarget).get('handle')).trim().replace(/^@/, '');
    if (!handle) return;
    setBusy(true);
    setError(null);
    try {
      await api.get(`/users/${encodeURIComponent(handle)}`);
      navigate(`/people/${encodeURIComponent(handle)}`);
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  }

  return (
    <form onSubmit={(e) => void submit(e)} className="flex flex-col gap-2">
      <ErrorBanner error={error} />
      <div className="flex flex-col gap-2 sm:flex-row sm:items-end">
        <div className="flex-1">
          <TextField label="Find someone by handle" name="handle" autoComplete="off" required />
        </div>
        <Button type="submit" disabled={busy}>
          {busy ? 'Looking…' : 'Find'}
        </Button>
      </div>
    </form>
  );
}
