import { Link } from 'react-router-dom';

/** A person's handle, linking to their profile page. */
export function PersonLink({ handle }: { handle: string }) {
  return (
    <Link
      className="font-semibold text-indigo-800 underline-offset-2 hover:underline"
      to={`/people/${handle}`}
    >
      @{handle}
    </Link>
  );
}
