/**
 * The messages of the realtime protocol (`/ws`), typed from docs/protocol.md.
 * Unknown fields are tolerated and unknown server `type`s are ignored, as the protocol asks.
 */

export interface UserRef {
  id: string;
  handle: string;
}

/** Where a client stopped in a channel: the epoch and offset of the last publication it handled. */
export interface Position {
  epoch: string;
  offset: number;
}

// ---- client → server -------------------------------------------------------------------------

export interface ConnectMessage {
  type: 'connect';
  id: number;
  token: string | null;
}
export interface SubscribeMessage {
  type: 'subscribe';
  id: number;
  channel: string;
  recover?: Position;
}
export interface UnsubscribeMessage {
  type: 'unsubscribe';
  id: number;
  channel: string;
}
export interface PresenceMessage {
  type: 'presence';
  id: number;
  channel: string;
}
export interface RefreshMessage {
  type: 'refresh';
  id: number;
  token: string;
}
export interface PingMessage {
  type: 'ping';
  id: number;
}
export interface TimeSyncMessage {
  type: 'time_sync';
  id: number;
  client_sent: number;
}
export interface PartyGetMessage {
  type: 'party_get';
  id: number;
  party: string;
}
export type PartyAction = 'play' | 'pause' | 'seek' | 'rate' | 'video';
export interface PartyCommandMessage {
  type: 'party_command';
  id: number;
  party: string;
  action: PartyAction;
  version: number;
  position?: number;
  rate?: number;
  video_id?: string;
}
export interface PartyStatusMessage {
  type: 'party_status';
  id: number;
  party: string;
  buffering: boolean;
  rtt_ms: number | null;
}
export interface PartyChatMessage {
  type: 'party_chat';
  id: number;
  party: string;
  text: string;
  position?: number;
}
export interface PartyReactMessage {
  type: 'party_react';
  id: number;
  party: string;
  emoji: string;
  position?: number;
}

export type ClientMessage =
  | ConnectMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | PresenceMessage
  | RefreshMessage
  | PingMessage
  | TimeSyncMessage
  | PartyGetMessage
  | PartyCommandMessage
  | PartyStatusMessage
  | PartyChatMessage
  | PartyReactMessage;

/** A request as the caller writes it: the client fills in the `id`. */
export type Request<M extends ClientMessage = ClientMessage> = M extends unknown ? Omit<M, 'id'> : never;

// ---- server → client -------------------------------------------------------------------------

export interface Connected {
  type: 'connected';
  id: number;
  client: string;
  user: UserRef | null;
  expires_in: number | null;
}
export interface Publication<D = unknown> {
  type: 'publication';
  channel: string;
  epoch: string;
  offset: number;
  data: D;
}
export interface Subscribed {
  type: 'subscribed';
  id: number;
  channel: string;
  epoch: string;
  offset: number;
  recovered: boolean;
  publications: Publication[];
}
export interface Unsubscribed {
  type: 'unsubscribed';
  id: number;
  channel: string;
}
export interface PresenceState {
  type: 'presence_state';
  id: number;
  channel: string;
  count: number;
  users: UserRef[];
}
export interface Join {
  type: 'join';
  channel: string;
  user: UserRef;
}
export interface Leave {
  type: 'leave';
  channel: string;
  user: UserRef;
}
export interface Refreshed {
  type: 'refreshed';
  id: number;
  expires_in: number;
}
export interface Pong {
  type: 'pong';
  id: number;
}
export interface ErrorFrame {
  type: 'error';
  id: number | null;
  code: string;
  message: string;
  details?: Record<string, unknown> | null;
}
export interface Disconnect {
  type: 'disconnect';
  code: number;
  reason: string;
  reconnect: boolean;
}
export interface EventFrame<D = unknown> {
  type: 'event';
  channel: string;
  data: D;
}
export interface TimeSynced {
  type: 'time_synced';
  id: number;
  client_sent: number;
  server_received: number;
  server_sent: number;
}
export interface PartyStateReply {
  type: 'party_state';
  id: number;
  party: string;
  state: PartyState;
}
export interface PartySent {
  type: 'party_sent';
  id: number;
  party: string;
  message_id: number | null;
}
export interface PartyReaction {
  type: 'party_reaction';
  channel: string;
  user: UserRef;
  emoji: string;
  video_id: string;
  position: number;
  server_time: number;
}

export type ServerMessage =
  | Connected
  | Subscribed
  | Unsubscribed
  | Publication
  | PresenceState
  | Join
  | Leave
  | Refreshed
  | Pong
  | ErrorFrame
  | Disconnect
  | EventFrame
  | TimeSynced
  | PartyStateReply
  | PartySent
  | PartyReaction;

/** Replies that answer a request (they carry its `id`). */
export type Reply = Extract<ServerMessage, { id: number }>;

const SERVER_TYPES: ReadonlySet<string> = new Set([
  'connected',
  'subscribed',
  'unsubscribed',
  'publication',
  'presence_state',
  'join',
  'leave',
  'refreshed',
  'pong',
  'error',
  'disconnect',
  'event',
  'time_synced',
  'party_state',
  'party_sent',
  'party_reaction',
]);

/** A server frame, or null for one this client does not know (which the protocol says to ignore). */
export function parseServerFrame(text: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !SERVER_TYPES.has(type)) return null;
  return value as ServerMessage;
}

// ---- events inside publications --------------------------------------------------------------

export interface Comment {
  id: number;
  video_id: string;
  author: UserRef;
  body: string;
  parent_id: number | null;
  root_id: number | null;
  position_seconds: number | null;
  status: 'visible' | 'held';
  reply_count: number;
  created_at: string;
  edited_at: string | null;
}

export interface Video {
  id: string;
  owner: UserRef;
  title: string;
  description: string;
  visibility: 'public' | 'unlisted' | 'private';
  status: 'draft' | 'uploaded' | 'processing' | 'ready' | 'failed';
  duration_seconds: number | null;
  created_at: string;
  updated_at: string;
  failure_reason: string | null;
}

export type VideoEvent =
  | { type: 'comment.created'; comment: Comment }
  | { type: 'comment.edited'; comment: Comment }
  | {
      type: 'comment.removed';
      video_id: string;
      comment_id: number;
      root_id: number | null;
      reason: 'deleted' | 'removed' | 'held';
    }
  | {
      type: 'rating';
      video_id: string;
      version: number;
      count: number;
      mean: number | null;
      histogram: [number, number, number, number, number];
    }
  | { type: 'slow_mode'; video_id: string; seconds: number }
  | { type: 'video.updated'; video: Video };

export interface FeedItem {
  id: number;
  actor: UserRef;
  verb: 'rated' | 'commented' | 'started_party' | 'followed' | 'uploaded';
  video: { id: string; title: string } | null;
  subject: UserRef | null;
  object_id: string | number | null;
  data: Record<string, unknown>;
  created_at: string;
}

export type UserEvent =
  | { type: 'feed.item'; item: FeedItem }
  | {
      type: 'media.status';
      video_id: string;
      status: 'uploaded' | 'processing' | 'ready' | 'failed';
      reason: string | null;
    };

/** Ephemeral `event` frames on `user:` channels. */
export interface MediaProgress {
  type: 'media.progress';
  video_id: string;
  stage: 'transcoding' | 'storing';
  fraction: number;
}

// ---- watch parties ---------------------------------------------------------------------------

export interface Playback {
  video_id: string;
  duration: number | null;
  playing: boolean;
  position: number;
  /** Server clock, milliseconds since the epoch. */
  at: number;
  rate: number;
  version: number;
}

export interface PartyState {
  id: string;
  revision: number;
  host: string | null;
  control: 'host' | 'everyone';
  wait_for_buffering: boolean;
  members: UserRef[];
  playback: Playback;
  wants_to_play: boolean;
  waiting: boolean;
  buffering: string[];
}

export interface PartyChat {
  id: number;
  party_id: string;
  user: UserRef;
  text: string;
  video_id: string;
  position: number | null;
  created_at: string;
}

export type PartyEvent =
  | { type: 'party.state'; state: PartyState }
  | { type: 'party.member_joined'; party_id: string; member: UserRef }
  | { type: 'party.member_left'; party_id: string; member: UserRef }
  | { type: 'party.chat'; message: PartyChat }
  | { type: 'party.ended'; party_id: string };

/** The thresholds a party sends in `sync_policy` (`GET /parties/{id}`). */
export interface SyncPolicyWire {
  rate_from_ms: number;
  rate_until_ms: number;
  rate_horizon_ms: number;
  max_rate_adjust: number;
  seek_from_ms: number;
  paused_seek_from_ms: number;
  compensate: boolean;
}
