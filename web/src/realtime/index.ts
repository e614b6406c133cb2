/** The realtime protocol client, written from docs/protocol.md. */

export * from './backoff';
export * from './client';
export * from './clock';
export * from './closeCodes';
export * from './drift';
export * from './follower';
export * from './party';
export * from './partyState';
export * from './types';
export * from './videoEvents';
export * from './followParty';
