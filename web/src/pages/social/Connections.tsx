import { useState } from 'react';
import { api } from '../../api/client';
import { PeopleList } from '../../components/social/PeopleList';
import { Section } from '../../components/social/Section';

const TABS = {
  following: { label: 'Following', empty: 'You follow nobody yet.', since: 'since' },
  followers: { label: 'Followers', empty: 'Nobody follows you yet.', since: 'since' },
  friends: {
    label: 'Friends',
    empty: 'No friends yet: friends are people you follow who follow you.',
    since: 'friends since',
  },
} as const;
type Tab = keyof typeof TABS;

/** Whom you follow, who follows you, and your friends (both), one list at a time. */
export function Connections({ userId, refresh }: { userId: string; refresh: number }) {
  const [tab, setTab] = useState<Tab>('following');
  const chosen = TABS[tab];
  return (
    <Section title="Your people">
      <div role="group" aria-label="Which list" className="mb-3 flex flex-wrap gap-2">
        {(Object.keys(TABS) as Tab[]).map((key) => (
          <button
            key={key}
            type="button"
            aria-pressed={tab === key}
            onClick={() => setTab(key)}
            className={`min-h-10 rounded-md px-3 py-1 text-sm font-medium ring-1 ring-slate-300 ${tab === key ? 'bg-indigo-700 text-white' : 'bg-white text-slate-900 hover:bg-slate-100'}`}
          >
            {TABS[key].label}
          </button>
        ))}
      </div>
      <PeopleList
        key={`${tab}-${refresh}`}
        path={`/users/${userId}/${tab}`}
        empty={chosen.empty}
        since={chosen.since}
        {...(tab === 'following'
          ? {
              action: {
                label: 'Unfollow',
                run: async (c) => {
                  await api.delete(`/me/following/${c.user.id}`, { auth: 'required' });
                },
              },
            }
          : {})}
      />
    </Section>
  );
}
