/** The recorded conversations, typed. */

import partyJson from "../__fixtures__/party.json";
import recoverAfterJson from "../__fixtures__/recover-after.json";
import recoverBeforeJson from "../__fixtures__/recover-before.json";
import recoverFailedJson from "../__fixtures__/recover-failed.json";
import shutdownJson from "../__fixtures__/shutdown.json";
import badFirstFrameJson from "../__fixtures__/terminal-bad-first-frame.json";
import invalidTokenJson from "../__fixtures__/terminal-invalid-token.json";
import userChannelJson from "../__fixtures__/user-channel.json";
import videoChannelJson from "../__fixtures__/video-channel.json";
import type { Fixture } from "./replay";

export const party = partyJson as unknown as Fixture;
export const recoverAfter = recoverAfterJson as unknown as Fixture;
export const recoverBefore = recoverBeforeJson as unknown as Fixture;
export const recoverFailed = recoverFailedJson as unknown as Fixture;
export const shutdown = shutdownJson as unknown as Fixture;
export const badFirstFrame = badFirstFrameJson as unknown as Fixture;
export const invalidToken = invalidTokenJson as unknown as Fixture;
export const userChannel = userChannelJson as unknown as Fixture;
export const videoChannel = videoChannelJson as unknown as Fixture;

/** The channel a recording subscribed to first. */
export function firstChannel(fixture: Fixture): string {
  const subscribe = fixture.frames.find((frame) => frame.dir === "send" && frame.frame.type === "subscribe");
  if (!subscribe) throw new Error(`${fixture.scenario} subscribes to nothing`);
  return subscribe.frame.channel as string;
}
