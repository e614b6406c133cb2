import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { session } from '../../api/client';
import { useMe, useSignedIn } from '../../api/useSession';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { PageTitle } from '../../components/PageTitle';
import { TextField } from '../../components/TextField';
import { safeNext } from './next';

export default function SignInPage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const signedIn = useSignedIn();
  const me = useMe();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await session.signIn(String(form.get('email')), String(form.get('password')));
      navigate(safeNext(params.get('next')));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  if (signedIn && !busy) {
    return (
      <section className="mx-auto max-w-sm">
        <PageTitle>Sign in</PageTitle>
        <p>
          You are signed in{me ? ` as @${me.handle}` : ''}.{' '}
          <Link className="text-indigo-700 underline" to={safeNext(params.get('next'))}>
            Go on
          </Link>
          , or sign out first to use another account.
        </p>
      </section>
    );
  }

  return (
    <section className="mx-auto max-w-sm">
      <PageTitle>Sign in</PageTitle>
      <form onSubmit={(e) => void submit(e)} className="flex flex-col gap-4">
        <ErrorBanner error={error} />
        <TextField label="Email" name="email" type="email" autoComplete="email" required />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
        />
        <Button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </Button>
      </form>
      <p className="mt-4 text-sm">
        New here?{' '}
        <Link
          className="text-indigo-700 underline"
          to={`/signup${params.get('next') ? `?next=${encodeURIComponent(params.get('next') ?? '')}` : ''}`}
        >
          Create an account
        </Link>
      </p>
    </section>
  );
}
