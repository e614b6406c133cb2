import { NavLink, useNavigate } from 'react-router-dom';
import { session } from '../api/client';
import { useMe, useSignedIn } from '../api/useSession';
import { NotificationBell } from './NotificationBell';

const link = ({ isActive }: { isActive: boolean }) =>
  `rounded px-2 py-1 text-sm font-medium ${isActive ? 'bg-indigo-100 text-indigo-900' : 'text-slate-700 hover:text-slate-950'}`;

export function Nav() {
  const signedIn = useSignedIn();
  const me = useMe();
  const navigate = useNavigate();
  const staff = me?.role === 'moderator' || me?.role === 'admin';

  async function signOut() {
    await session.signOut();
    navigate('/');
  }

  return (
    <nav aria-label="Main" className="flex flex-wrap items-center gap-x-2 gap-y-1">
      <NavLink to="/" end className={link}>
        Videos
      </NavLink>
      <NavLink to="/party" className={link}>
        Parties
      </NavLink>
      {signedIn && (
        <>
          <NavLink to="/friends" className={link}>
            Friends
          </NavLink>
          <NavLink to="/upload" className={link}>
            Upload
          </NavLink>
          {staff && (
            <NavLink to="/moderate" className={link}>
              Moderation
            </NavLink>
          )}
          {me && <NotificationBell userId={me.id} />}
          <NavLink to="/profile" className={link}>
            {me ? `@${me.handle}` : 'Profile'}
          </NavLink>
          <button
            type="button"
            onClick={() => void signOut()}
            className="rounded px-2 py-1 text-sm font-medium text-slate-700 hover:text-slate-950"
          >
            Sign out
          </button>
        </>
      )}
      {!signedIn && (
        <>
          <NavLink to="/signin" className={link}>
            Sign in
          </NavLink>
          <NavLink to="/signup" className={link}>
            Sign up
          </NavLink>
        </>
      )}
    </nav>
  );
}
