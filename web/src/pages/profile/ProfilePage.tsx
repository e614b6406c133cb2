import { useParams } from 'react-router-dom';
import { MyProfile } from './MyProfile';
import { PersonProfile } from './PersonProfile';

/** `/profile`: your own record; `/people/:handle`: someone's public profile, with follow, mute and block. */
export default function ProfilePage() {
  const { handle } = useParams();
  return handle ? <PersonProfile key={handle} handle={handle} /> : <MyProfile />;
}
