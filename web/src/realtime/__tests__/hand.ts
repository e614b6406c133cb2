import type { SocketFactory, SocketHandlers } from '../client';

/** A hand-driven server for the cases no recording covers (timeouts, a series of drops). */
export class Hand {
  sockets: Array<{ handlers: SocketHandlers; sent: Array<Record<string, unknown>>; closed: number | null }> =
    [];

  factory: SocketFactory = (_url, handlers) => {
    const socket = { handlers, sent: [] as Array<Record<string, unknown>>, closed: null as number | null };
    this.sockets.push(socket);
    queueMicrotask(() => handlers.open());
    return {
      send: (data: string) => socket.sent.push(JSON.parse(data) as Record<string, unknown>),
      close: (code?: number) => {
        socket.closed = code ?? 1005;
      },
    };
  };

  get last(): (typeof this.sockets)[number] {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error('no socket yet');
    return socket;
  }

  reply(frame: Record<string, unknown>): void {
    this.last.handlers.message(JSON.stringify(frame));
  }

  /** Answer the `connect` of the latest socket. */
  accept(expiresIn: number | null = null): void {
    const connect = this.last.sent.find((frame) => frame.type === 'connect');
    if (!connect) throw new Error('no connect sent');
    this.reply({ type: 'connected', id: connect.id, client: 'c', user: null, expires_in: expiresIn });
  }

  /** Close the latest socket with `code`, after a `disconnect` frame when given (whose code may differ). */
  drop(code = 1006, disconnect?: { reason: string; reconnect: boolean; code?: number }): void {
    if (disconnect) this.reply({ type: 'disconnect', code, ...disconnect });
    this.last.handlers.close(code, '');
  }
}
