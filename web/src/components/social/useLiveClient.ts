/**
 * A realtime client for the page that shows it, signed in with the session's token: it
 * connects when the page mounts and closes when it unmounts, so pages without live parts never
 * open a socket.
 */
import { useEffect, useState } from 'react';
import { session } from '../../api/client';
import { RealtimeClient } from '../../realtime';

/** The gateway's address on this origin (`ws:` or `wss:` to match the page). */
export function gatewayUrl(location: Pick<Location, 'protocol' | 'host'> = window.location): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

export function useLiveClient(enabled: boolean): RealtimeClient | null {
  const [client, setClient] = useState<RealtimeClient | null>(null);
  useEffect(() => {
    if (!enabled) return undefined;
    const created = new RealtimeClient({
      url: gatewayUrl(),
      // A still-valid token to connect; a fresh one to refresh or after the old one expired.
      token: (reason) => (reason === 'connect' ? session.accessToken() : session.refresh()),
    });
    created.start();
    setClient(created);
    return () => {
      created.close();
      setClient(null);
    };
  }, [enabled]);
  return client;
}
