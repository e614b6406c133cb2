import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { PartyChat as ChatMessage } from '../../realtime';
import { Button } from '../Button';
import { Empty } from '../States';
import { formatPosition } from './time';

/** The party's chat: what members wrote, each at the place in the video they wrote it. */
export function PartyChat({
  messages,
  onSend,
}: {
  messages: ChatMessage[];
  onSend: (text: string) => Promise<boolean>;
}) {
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const list = useRef<HTMLOListElement>(null);

  useEffect(() => {
    const element = list.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [messages.length]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!text.trim()) return;
    setSending(true);
    if (await onSend(text.trim())) setText('');
    setSending(false);
  }

  return (
    <section aria-labelledby="party-chat-title" className="flex flex-col gap-2">
      <h2 id="party-chat-title" className="text-lg font-semibold">
        Chat
      </h2>
      {messages.length === 0 ? (
        <Empty>No messages yet. Say hello.</Empty>
      ) : (
        <ol
          ref={list}
          className="flex max-h-72 flex-col gap-1 overflow-y-auto rounded-md border border-slate-200 bg-white p-2"
          aria-label="Messages"
          tabIndex={0}
        >
          {messages.map((message) => (
            <li key={message.id} className="text-sm">
              <span className="font-semibold">@{message.user.handle}</span>{' '}
              {message.position !== null && (
                <span className="font-mono text-xs text-slate-600">{formatPosition(message.position)}</span>
              )}{' '}
              <span className="break-words">{message.text}</span>
            </li>
          ))}
        </ol>
      )}
      <form onSubmit={(event) => void submit(event)} className="flex items-end gap-2">
        <div className="flex flex-1 flex-col gap-1">
          <label htmlFor="party-chat-text" className="text-sm font-medium">
            Message
          </label>
          <input
            id="party-chat-text"
            value={text}
            maxLength={1000}
            onChange={(event) => setText(event.target.value)}
            className="min-h-10 rounded-md border border-slate-400 bg-white px-3 py-2 text-base"
          />
        </div>
        <Button type="submit" disabled={sending || !text.trim()}>
          Send
        </Button>
      </form>
    </section>
  );
}
