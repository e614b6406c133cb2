/**
 * React hooks over the realtime client: the connection's state for a status badge, and a
 * channel's events for a page. Provide the app's one client with `RealtimeContext.Provider`.
 */

import { createContext, useContext, useEffect, useRef, useState, useSyncExternalStore } from 'react';

import type { ChannelEvents, ConnectionState, RealtimeClient, RealtimeError, SubscribedInfo } from './client';

export const RealtimeContext = createContext<RealtimeClient | null>(null);

export function useRealtimeClient(): RealtimeClient {
  const client = useContext(RealtimeContext);
  if (client === null) throw new Error('useRealtimeClient needs a RealtimeContext.Provider above it');
  return client;
}

/** The connection's state, re-rendering on every change. */
export function useConnectionState(client?: RealtimeClient): ConnectionState {
  const fromContext = useContext(RealtimeContext);
  const chosen = client ?? fromContext;
  if (chosen === null) throw new Error('useConnectionState needs a client or a RealtimeContext.Provider');
  return useSyncExternalStore(
    (notify) => chosen.on('state', notify),
    () => chosen.state,
  );
}

export interface ChannelHandlers {
  onSubscribed?: (info: ChannelEvents['subscribed']) => void;
  onPublication?: (publication: ChannelEvents['publication']) => void;
  onEvent?: (event: ChannelEvents['event']) => void;
  onJoin?: (join: ChannelEvents['join']) => void;
  onLeave?: (leave: ChannelEvents['leave']) => void;
  onReaction?: (reaction: ChannelEvents['reaction']) => void;
}

export interface ChannelStatus {
  /** The last confirmation of the subscription (null until the first). */
  subscribed: SubscribedInfo | null;
  /** Why the server refused the subscription, if it did. */
  error: RealtimeError | null;
}

/**
 * Subscribe to `name` (null: nothing) while the component is mounted; the handlers are called
 * for its events. When `subscribed.recovered` is false, reload the channel's state by REST.
 */
export function useChannel(
  name: string | null,
  handlers: ChannelHandlers,
  client?: RealtimeClient,
): ChannelStatus {
  const fromContext = useContext(RealtimeContext);
  const chosen = client ?? fromContext;
  const latest = useRef(handlers);
  latest.current = handlers;
  const [status, setStatus] = useState<ChannelStatus>({ subscribed: null, error: null });
  useEffect(() => {
    if (chosen === null || name === null) return undefined;
    setStatus({ subscribed: null, error: null });
    const channel = chosen.subscribe(name);
    const offs = [
      channel.on('subscribed', (info) => {
        setStatus({ subscribed: info, error: null });
        latest.current.onSubscribed?.(info);
      }),
      channel.on('publication', (value) => latest.current.onPublication?.(value)),
      channel.on('event', (value) => latest.current.onEvent?.(value)),
      channel.on('join', (value) => latest.current.onJoin?.(value)),
      channel.on('leave', (value) => latest.current.onLeave?.(value)),
      channel.on('reaction', (value) => latest.current.onReaction?.(value)),
      channel.on('error', (error) => setStatus({ subscribed: null, error })),
    ];
    return () => {
      for (const off of offs) off();
      chosen.unsubscribe(name);
    };
  }, [chosen, name]);
  return status;
}
