/**
 * The one realtime connection of the video and upload pages: made on first use, authenticated by
 * the app's session (anonymous when signed out), and reconnected as another user when the
 * session signs in or out, so channel permissions always match who is looking.
 */
import { session } from '../../api/client';
import { RealtimeClient, type TokenReason } from '../../realtime';

let shared: RealtimeClient | null = null;

function socketUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}/ws`;
}

async function token(reason: TokenReason): Promise<string | null> {
  if (!session.signedIn) return null;
  return reason === 'connect' ? session.accessToken() : session.refresh();
}

export function liveClient(): RealtimeClient {
  if (shared) return shared;
  const client = new RealtimeClient({ url: socketUrl(), token });
  let signedIn = session.signedIn;
  session.onChange(() => {
    if (session.signedIn === signedIn) return;
    signedIn = session.signedIn;
    client.close();
    client.start();
  });
  client.start();
  shared = client;
  return client;
}
