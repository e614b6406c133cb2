import type { Schemas } from '../../api/client';
import { Loading } from '../States';

type Member = Schemas['PartyMember'];

/**
 * Who is in the party: online or not, who is host, whose player is still loading. The host can
 * hand control to anyone; while the host is offline, anyone can take it.
 */
export function MemberList({
  members,
  meId,
  buffering,
  onHandOver,
  busy,
}: {
  members: Member[] | null;
  meId: string | null;
  buffering: string[];
  onHandOver: (userId: string) => void;
  busy: boolean;
}) {
  if (members === null) return <Loading label="Loading members…" />;
  const host = members.find((m) => m.host) ?? null;
  const iAmHost = host?.user.id === meId;
  const hostAway = host !== null && !host.online;
  return (
    <ul className="flex flex-col gap-1" aria-label="Members">
      {members.map((member) => {
        const me = member.user.id === meId;
        const loading = buffering.includes(member.user.id);
        return (
          <li
            key={member.user.id}
            className="flex flex-wrap items-center gap-2 rounded-md px-2 py-1 hover:bg-slate-50"
            data-testid="party-member"
            data-host={member.host}
          >
            <span
              aria-hidden="true"
              className={`h-2.5 w-2.5 rounded-full ${member.online ? 'bg-emerald-600' : 'bg-slate-300'}`}
            />
            <span className="font-medium">@{member.user.handle}</span>
            {me && <span className="text-sm text-slate-600">(you)</span>}
            <span className="sr-only">{member.online ? 'online' : 'offline'}</span>
            {member.host && (
              <span className="rounded bg-indigo-100 px-1.5 text-xs font-semibold text-indigo-900">host</span>
            )}
            {loading && (
              <span className="rounded bg-amber-100 px-1.5 text-xs font-semibold text-amber-900">
                loading
              </span>
            )}
            {!member.online && <span className="text-xs text-slate-600">offline</span>}
            {iAmHost && !me && (
              <button
                type="button"
                disabled={busy}
                onClick={() => onHandOver(member.user.id)}
                className="ml-auto rounded px-2 py-1 text-sm font-medium text-indigo-800 underline hover:text-indigo-950 disabled:opacity-60"
              >
                Make @{member.user.handle} host
              </button>
            )}
            {me && !member.host && hostAway && (
              <button
                type="button"
                disabled={busy}
                onClick={() => onHandOver(member.user.id)}
                className="ml-auto rounded px-2 py-1 text-sm font-medium text-indigo-800 underline hover:text-indigo-950 disabled:opacity-60"
              >
                Take control (the host is away)
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}
