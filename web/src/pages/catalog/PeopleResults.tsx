/**
 * People whose handle or display name matches a search (the start of it, or close to it), each
 * with their name and avatar, linking to their profiles.
 */
import { Link } from 'react-router-dom';
import { type Schemas } from '../../api/client';
import { Avatar } from '../../components/Avatar';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Empty, Loading } from '../../components/States';
import { usePaged } from './usePaged';

type PersonHit = Schemas['PersonHit'];

const PAGE_SIZE = 6;
const personKey = (hit: PersonHit) => hit.user.id;

function followers(count: number): string {
  return count === 1 ? '1 follower' : `${count} followers`;
}

export function PeopleResults({ query }: { query: string }) {
  const people = usePaged<PersonHit>('/search/people', query, PAGE_SIZE, personKey);
  return (
    <section aria-labelledby="people-results" className="flex flex-col gap-2">
      <h2 id="people-results" className="text-lg font-semibold">
        People
      </h2>
      <ErrorBanner error={people.error} />
      {people.items.length > 0 && (
        <ul aria-label="People found" className="grid grid-cols-1 gap-2 sm:grid-cols-2 lg:grid-cols-3">
          {people.items.map(({ user, followers: count, display_name: name, avatar }) => (
            <li key={user.id}>
              <Link
                to={`/people/${encodeURIComponent(user.handle)}`}
                className="flex min-h-10 items-center gap-3 rounded-md border border-slate-200 bg-white px-3 py-2 hover:bg-slate-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-700"
              >
                <Avatar images={avatar} name={name} handle={user.handle} size={40} />
                <span className="flex min-w-0 flex-col">
                  {name && <span className="font-semibold break-words">{name}</span>}
                  <span className={`break-all ${name ? 'text-sm text-slate-700' : 'font-medium'}`}>
                    @{user.handle}
                  </span>
                  <span className="text-sm text-slate-600">{followers(count)}</span>
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
      {people.loading && <Loading label="Searching people…" />}
      {!people.loading && !people.error && people.items.length === 0 && (
        <Empty>{`No one’s handle or name matches “${query}”.`}</Empty>
      )}
      {!people.loading && people.hasMore && (
        <Button variant="secondary" onClick={people.more} className="self-start">
          Show more people
        </Button>
      )}
    </section>
  );
}
