/** The host's settings: who controls playback, and whether the party waits for loading members. */
export function PartySettings({
  control,
  waitForBuffering,
  busy,
  onChange,
}: {
  control: 'host' | 'everyone';
  waitForBuffering: boolean;
  busy: boolean;
  onChange: (change: { control?: 'host' | 'everyone'; wait_for_buffering?: boolean }) => void;
}) {
  return (
    <fieldset className="flex flex-col gap-1 text-sm">
      <legend className="font-medium">Party settings</legend>
      <label className="flex items-center gap-2">
        <input
          type="checkbox"
          checked={control === 'everyone'}
          disabled={busy}
          onChange={(event) => onChange({ control: event.target.checked ? 'everyone' : 'host' })}
        />
        Everyone controls playback
      </label>
      <label className="flex items-center gap-2">
        <input
          type="checkbox"
          checked={waitForBuffering}
          disabled={busy}
          onChange={(event) => onChange({ wait_for_buffering: event.target.checked })}
        />
        Wait for members whose video is loading
      </label>
    </fieldset>
  );
}
