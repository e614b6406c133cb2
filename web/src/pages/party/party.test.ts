import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors';
import { MYDRTV_POLICY, RealtimeError, SYNCPLAY_POLICY } from '../../realtime';
import { inviteLink } from './partyApi';
import { describePartyError } from './partyErrors';
import { choosePolicy } from './policy';

const WIRE = {
  rate_from_ms: 6,
  rate_until_ms: 2,
  rate_horizon_ms: 300,
  max_rate_adjust: 0.1,
  seek_from_ms: 250,
  paused_seek_from_ms: 5,
  compensate: true,
};

describe('inviteLink', () => {
  it('is the party page with the invite in the query', () => {
    expect(inviteLink('https://tv.example', { id: 'abc', invite: 'Qk3/+x' })).toBe(
      'https://tv.example/party/abc?invite=Qk3%2F%2Bx',
    );
  });
  it('has no invite for a public party', () => {
    expect(inviteLink('https://tv.example', { id: 'abc', invite: null })).toBe(
      'https://tv.example/party/abc',
    );
  });
});

describe('describePartyError', () => {
  it('puts socket errors in words', () => {
    expect(describePartyError(new RealtimeError('not_host', 'host only', { host: 'x' }))).toBe(
      'Only the host controls playback in this party.',
    );
    expect(describePartyError(new RealtimeError('something_new', 'the server said this'))).toBe(
      'the server said this',
    );
  });
  it('leaves API errors to the API words', () => {
    expect(describePartyError(new ApiError(403, 'invalid_invite', 'bad invite'))).toBe(
      'This invite link is not valid any more. Ask the host for a new one.',
    );
  });
});

describe('choosePolicy', () => {
  it("follows the party's sync_policy", () => {
    expect(choosePolicy(WIRE)).toEqual(MYDRTV_POLICY);
  });
  it("runs SyncPlay's thresholds when a comparison asks for them", () => {
    window.__MYDRTV_SYNC_POLICY__ = 'syncplay';
    try {
      expect(choosePolicy(WIRE)).toEqual(SYNCPLAY_POLICY);
    } finally {
      delete window.__MYDRTV_SYNC_POLICY__;
    }
  });
});
