/**
 * What to do when the socket closes, decided from the close code alone (docs/protocol.md,
 * "Close codes"): reconnect ranges come back with backoff and recovery, terminal ranges stop
 * until the cause (a token, a client bug) is fixed.
 */

export type CloseAction =
  /** Come back after the backoff and recover. */
  | { kind: 'reconnect'; immediate: boolean; newToken: boolean }
  /** Do not reconnect automatically: the same connect would fail the same way. */
  | { kind: 'terminal' }
  /** The client closed the socket itself (1000/1001 echo): nothing to do. */
  | { kind: 'done' };

/** Transport codes (1000-2999) that mean "fix the client": reconnecting would fail the same way. */
const TERMINAL_TRANSPORT = new Set([1002, 1003, 1007, 1008, 1009, 1010]);

export function inReconnectRange(code: number): boolean {
  return (code >= 3000 && code <= 3499) || (code >= 4000 && code <= 4499);
}

export function inTerminalRange(code: number): boolean {
  return (code >= 3500 && code <= 3999) || (code >= 4500 && code <= 4999);
}

/**
 * The action for a close. `disconnectSaysReconnect` is the `reconnect` field of a `disconnect`
 * frame that came before the close, when one did: the server's word wins over the number.
 * `closedByUs` is true when this client started the close.
 */
export function closeAction(
  code: number,
  disconnectSaysReconnect?: boolean,
  closedByUs = false,
): CloseAction {
  if (closedByUs) return { kind: 'done' };
  const reconnect = { kind: 'reconnect' as const, immediate: code === 4001, newToken: code === 4005 };
  if (disconnectSaysReconnect !== undefined)
    return disconnectSaysReconnect ? reconnect : { kind: 'terminal' };
  if (inReconnectRange(code)) return reconnect;
  if (inTerminalRange(code)) return { kind: 'terminal' };
  if (TERMINAL_TRANSPORT.has(code)) return { kind: 'terminal' };
  // 1000/1001 that we did not start, 1005, 1006 (dropped), 1011, 1012, 1013, 1014, 1015 and any
  // other transport code: the network or the server, so come back with backoff.
  return reconnect;
}

/** Words for a person, for the codes a client can meet (the reason the server sent wins when present). */
export function describeClose(code: number): string {
  switch (code) {
    case 1006:
      return 'the connection dropped';
    case 1011:
      return 'the server stopped hearing from this connection';
    case 1012:
      return 'the server is restarting';
    case 4001:
      return 'the server is shutting down';
    case 4004:
      return 'the server failed while serving this connection';
    case 4005:
      return 'the sign-in expired';
    case 4008:
      return 'this connection fell behind';
    case 4010:
      return 'live delivery was interrupted';
    case 4013:
      return 'too many messages were sent';
    case 4014:
      return 'your role changed';
    case 4500:
      return 'the sign-in was refused; sign in again';
    case 4501:
    case 4509:
    case 1002:
    case 1007:
    case 1009:
      return 'this app sent something the server could not take; reload the page';
    case 4502:
      return 'the connection did not introduce itself in time';
    default:
      return inTerminalRange(code) ? 'the server refused the connection' : 'the connection closed';
  }
}
