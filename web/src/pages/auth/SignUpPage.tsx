import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { signUp } from '../../api/client';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { PageTitle } from '../../components/PageTitle';
import { TextField } from '../../components/TextField';
import { safeNext } from './next';

export default function SignUpPage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await signUp(String(form.get('email')), String(form.get('password')), String(form.get('handle')));
      navigate(safeNext(params.get('next')));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="mx-auto max-w-sm">
      <PageTitle>Create an account</PageTitle>
      <form onSubmit={(e) => void submit(e)} className="flex flex-col gap-4">
        <ErrorBanner error={error} />
        <TextField label="Email" name="email" type="email" autoComplete="email" required />
        <TextField
          label="Handle"
          name="handle"
          autoComplete="username"
          hint="How others see you: letters, digits and underscores."
          required
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          hint="A long passphrase of a few words."
          required
        />
        <Button type="submit" disabled={busy}>
          {busy ? 'Creating your account…' : 'Sign up'}
        </Button>
      </form>
      <p className="mt-4 text-sm">
        Already have an account?{' '}
        <Link
          className="text-indigo-700 underline"
          to={`/signin${params.get('next') ? `?next=${encodeURIComponent(params.get('next') ?? '')}` : ''}`}
        >
          Sign in
        </Link>
      </p>
    </section>
  );
}
