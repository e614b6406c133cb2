import { useState } from 'react';
import { Link } from 'react-router-dom';
import { useMe, useSignedIn } from '../../api/useSession';
import { Loading } from '../../components/States';
import { PageTitle } from '../../components/PageTitle';
import { BlocksAndMutes } from './BlocksAndMutes';
import { Connections } from './Connections';
import { FeedSection } from './FeedSection';
import { FindPerson } from './FindPerson';
import { PeopleYouMayKnow } from './PeopleYouMayKnow';
import { RecommendedVideos } from './RecommendedVideos';

/** Your social side: the live feed, whom to follow, what to watch, your people, blocks and mutes. */
export default function SocialPage() {
  const signedIn = useSignedIn();
  const me = useMe();
  // Following someone changes the lists and the recommendations: reload those.
  const [followed, setFollowed] = useState(0);

  if (!signedIn) {
    return (
      <section>
        <PageTitle>Friends</PageTitle>
        <p>
          <Link className="text-indigo-700 underline" to="/signin?next=/friends">
            Sign in
          </Link>{' '}
          to follow people and see what they are up to.
        </p>
      </section>
    );
  }
  if (!me) {
    return (
      <section>
        <PageTitle>Friends</PageTitle>
        <Loading />
      </section>
    );
  }
  return (
    <section className="flex flex-col gap-4">
      <PageTitle>Friends</PageTitle>
      <FindPerson />
      <div className="grid gap-4 lg:grid-cols-[3fr_2fr]">
        <div className="flex min-w-0 flex-col gap-4">
          <FeedSection userId={me.id} />
          <RecommendedVideos refresh={followed} />
        </div>
        <div className="flex min-w-0 flex-col gap-4">
          <PeopleYouMayKnow onFollowed={() => setFollowed((n) => n + 1)} />
          <Connections userId={me.id} refresh={followed} />
        </div>
      </div>
      <BlocksAndMutes />
    </section>
  );
}
