/**
 * One live party on the page: a realtime connection signed in with the page's session, the
 * party's channel, its clock, state, chat, reactions and members. Everything the party room
 * shows comes from here; playback itself is steered by `PartyPlayer`.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { session as authSession } from '../../api/client';
import {
  PartySession,
  RealtimeClient,
  type ClockEstimate,
  type ConnectionState,
  type PartyChat,
  type PartyState,
} from '../../realtime';
import type { ShownReaction } from '../../components/party/Reactions';
import { partyApi, type PartyMember } from './partyApi';

export interface LiveParty {
  session: PartySession | null;
  connection: ConnectionState | null;
  state: PartyState | null;
  clock: ClockEstimate | null;
  chat: PartyChat[];
  reactions: ShownReaction[];
  members: PartyMember[] | null;
  ended: boolean;
  /** A background failure (the channel refused, a report failed), for the error banner. */
  problem: unknown;
  reloadMembers(): void;
}

/** How long a reaction stays on screen (ms). */
const REACTION_MS = 4000;

function socketUrl(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${window.location.host}/ws`;
}

export function useLiveParty(partyId: string): LiveParty {
  const [session, setSession] = useState<PartySession | null>(null);
  const [connection, setConnection] = useState<ConnectionState | null>(null);
  const [state, setState] = useState<PartyState | null>(null);
  const [clock, setClock] = useState<ClockEstimate | null>(null);
  const [chat, setChat] = useState<PartyChat[]>([]);
  const [reactions, setReactions] = useState<ShownReaction[]>([]);
  const [members, setMembers] = useState<PartyMember[] | null>(null);
  const [ended, setEnded] = useState(false);
  const [problem, setProblem] = useState<unknown>(null);
  const reactionKey = useRef(0);

  const reloadMembers = useCallback(() => {
    partyApi.members(partyId).then(setMembers, setProblem);
  }, [partyId]);

  useEffect(() => {
    const client = new RealtimeClient({
      url: socketUrl(),
      token: (reason) => (reason === 'connect' ? authSession.accessToken() : authSession.refresh()),
    });
    const party = new PartySession(client, partyId);
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const channel = client.channel(party.channelName);
    const addChat = (message: PartyChat) =>
      setChat((old) => (old.some((m) => m.id === message.id) ? old : [...old, message]));
    const offs = [
      client.on('state', setConnection),
      party.events.on('state', setState),
      party.events.on('clock', setClock),
      party.events.on('chat', addChat),
      party.events.on('memberJoined', reloadMembers),
      party.events.on('memberLeft', reloadMembers),
      party.events.on('ended', () => setEnded(true)),
      party.events.on('error', (error) => {
        if (error.code === 'party_not_found') setEnded(true);
        else setProblem(error);
      }),
      party.events.on('reaction', (reaction) => {
        reactionKey.current += 1;
        const key = reactionKey.current;
        setReactions((old) => [
          ...old.slice(-7),
          { key, handle: reaction.user.handle, emoji: reaction.emoji },
        ]);
        const timer = setTimeout(() => {
          timers.delete(timer);
          setReactions((old) => old.filter((r) => r.key !== key));
        }, REACTION_MS);
        timers.add(timer);
      }),
      channel.on('join', reloadMembers),
      channel.on('leave', reloadMembers),
      channel.on('subscribed', () => {
        setProblem(null);
        reloadMembers();
      }),
      channel.on('error', setProblem),
    ];
    party.join();
    client.start();
    setSession(party);
    partyApi
      .messages(partyId)
      .then(
        (page) =>
          setChat((live) => [
            ...[...page.items].reverse().filter((m) => !live.some((l) => l.id === m.id)),
            ...live,
          ]),
        setProblem,
      );
    return () => {
      for (const off of offs) off();
      for (const timer of timers) clearTimeout(timer);
      party.leave();
      client.close();
      setSession(null);
    };
  }, [partyId, reloadMembers]);

  // The host changing hands changes who is marked as host.
  const host = state?.host ?? null;
  useEffect(() => {
    if (host !== null) reloadMembers();
  }, [host, reloadMembers]);

  return { session, connection, state, clock, chat, reactions, members, ended, problem, reloadMembers };
}
