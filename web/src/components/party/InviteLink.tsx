import { useState } from 'react';
import { Button } from '../Button';

/** The link to pass on, with a copy button (the text stays selectable when copying is refused). */
export function InviteLink({
  link,
  canRenew,
  onRenew,
}: {
  link: string;
  canRenew: boolean;
  onRenew: () => void;
}) {
  const [copied, setCopied] = useState<string | null>(null);

  async function copy() {
    try {
      await navigator.clipboard.writeText(link);
      setCopied('Copied.');
    } catch {
      setCopied('Copying is blocked here: select the link and copy it.');
    }
  }

  return (
    <div className="flex flex-col gap-1">
      <label htmlFor="party-invite" className="text-sm font-medium">
        Invite link
      </label>
      <input
        id="party-invite"
        readOnly
        value={link}
        onFocus={(event) => event.target.select()}
        className="min-h-10 w-full rounded-md border border-slate-400 bg-slate-50 px-3 py-2 font-mono text-sm"
      />
      <div className="flex flex-wrap gap-2">
        <Button variant="secondary" onClick={() => void copy()}>
          Copy link
        </Button>
        {canRenew && (
          <Button variant="secondary" onClick={onRenew}>
            New link
          </Button>
        )}
      </div>
      <p role="status" className="text-sm text-slate-700">
        {copied ?? ''}
      </p>
    </div>
  );
}
