/** A reaction on screen, for a few seconds. */
export interface ShownReaction {
  key: number;
  handle: string;
  emoji: string;
}

const EMOJIS = [
  { emoji: '👍', name: 'Thumbs up' },
  { emoji: '😂', name: 'Laugh' },
  { emoji: '😮', name: 'Wow' },
  { emoji: '❤️', name: 'Love' },
  { emoji: '👏', name: 'Applause' },
] as const;

/** Quick reactions everyone sees for a few seconds; nothing is stored. */
export function Reactions({ shown, onReact }: { shown: ShownReaction[]; onReact: (emoji: string) => void }) {
  return (
    <section aria-label="Reactions" className="flex flex-col gap-2">
      <div className="flex flex-wrap gap-1">
        {EMOJIS.map(({ emoji, name }) => (
          <button
            key={emoji}
            type="button"
            onClick={() => onReact(emoji)}
            aria-label={`React: ${name}`}
            className="min-h-10 min-w-10 rounded-md bg-white text-xl ring-1 ring-slate-300 hover:bg-slate-100"
          >
            {emoji}
          </button>
        ))}
      </div>
      <ul aria-live="polite" aria-label="Recent reactions" className="flex min-h-8 flex-wrap gap-2">
        {shown.map((reaction) => (
          <li key={reaction.key} className="rounded-full bg-slate-100 px-2 py-1 text-sm">
            <span aria-hidden="true">{reaction.emoji}</span>
            <span className="sr-only">
              {EMOJIS.find((e) => e.emoji === reaction.emoji)?.name ?? reaction.emoji}
            </span>{' '}
            @{reaction.handle}
          </li>
        ))}
      </ul>
    </section>
  );
}
