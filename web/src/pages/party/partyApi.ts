/** The party endpoints of the REST API (docs/protocol.md, "Life of a party"), typed from the schema. */
import { api, type Schemas } from '../../api/client';

export type PartyInfo = Schemas['PartyInfo'];
export type PartyMember = Schemas['PartyMember'];
export type ChatMessage = Schemas['ChatMessage'];
export type Video = Schemas['Video'];
export type MediaPlayback = Schemas['videos_media_serving_Playback'];

export interface NewParty {
  video_id: string;
  visibility: 'public' | 'private';
  control: 'host' | 'everyone';
}

const at = (partyId: string) => `/parties/${encodeURIComponent(partyId)}`;

export const partyApi = {
  create: (body: NewParty) => api.post<PartyInfo>('/parties', body, { auth: 'required' }),
  get: (partyId: string, signal?: AbortSignal) => api.get<PartyInfo>(at(partyId), signal ? { signal } : {}),
  /** Join with the invite from the link (sent in the body, never in a URL the API sees). */
  join: (partyId: string, invite: string | null) =>
    api.post<PartyInfo>(`${at(partyId)}/join`, invite ? { invite } : {}, { auth: 'required' }),
  leave: (partyId: string) => api.post<void>(`${at(partyId)}/leave`, undefined, { auth: 'required' }),
  /** Every member: a party holds at most 50 (the server's party_max_members), one page of 100. */
  members: (partyId: string) =>
    api
      .get<Schemas['PartyMemberPage']>(`${at(partyId)}/members`, { query: { limit: 100 } })
      .then((page): PartyMember[] => page.items),
  handOver: (partyId: string, userId: string) =>
    api.put<PartyInfo>(`${at(partyId)}/host`, { user_id: userId }, { auth: 'required' }),
  configure: (partyId: string, change: Schemas['PartyChange']) =>
    api.patch<PartyInfo>(at(partyId), change, { auth: 'required' }),
  renewInvite: (partyId: string) =>
    api.post<Schemas['Invite']>(`${at(partyId)}/invite`, undefined, { auth: 'required' }),
  messages: (partyId: string) =>
    api.get<Schemas['MessagePage']>(`${at(partyId)}/messages`, {
      auth: 'required',
      query: { limit: 50 },
    }),
  mine: () => api.get<Schemas['PartyPage']>('/me/parties', { auth: 'required' }),
  public: () => api.get<Schemas['PartyPage']>('/parties', { query: { limit: 20 } }),
  videos: () => api.get<Schemas['VideoPage']>('/videos', { query: { limit: 50 } }),
  video: (videoId: string) => api.get<Video>(`/videos/${encodeURIComponent(videoId)}`),
  playback: (videoId: string) => api.get<MediaPlayback>(`/videos/${encodeURIComponent(videoId)}/playback`),
};

/** The link that lets someone join: the page's address with the invite in the query (private parties). */
export function inviteLink(origin: string, party: Pick<PartyInfo, 'id' | 'invite'>): string {
  const url = new URL(`/party/${party.id}`, origin);
  if (party.invite) url.searchParams.set('invite', party.invite);
  return url.toString();
}
