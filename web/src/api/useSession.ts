/** React hooks over the one session: whether someone is signed in, and who. */
import { useEffect, useState, useSyncExternalStore } from 'react';
import { api, session, type Schemas } from './client';

export function useSignedIn(): boolean {
  return useSyncExternalStore(
    (changed) => session.onChange(changed),
    () => session.signedIn,
  );
}

export type Me = Schemas['Me'];

/** The signed-in user's own record (null while loading or when signed out). */
export function useMe(): Me | null {
  const signedIn = useSignedIn();
  const [me, setMe] = useState<Me | null>(null);
  useEffect(() => {
    if (!signedIn) {
      setMe(null);
      return;
    }
    const controller = new AbortController();
    api
      .get<Me>('/me', { auth: 'required', signal: controller.signal })
      .then(setMe)
      .catch(() => setMe(null));
    return () => controller.abort();
  }, [signedIn]);
  return me;
}
