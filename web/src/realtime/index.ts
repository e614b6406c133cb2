/** The realtime protocol client: see docs/protocol.md and README in this folder. */

export * from "./backoff";
export * from "./client";
export * from "./clock";
export * from "./closeCodes";
export * from "./drift";
export * from "./follower";
export * from "./party";
export * from "./partyState";
export * from "./types";
