/**
 * Which drift policy the player runs: the party's own `sync_policy`, unless a comparison run set
 * `window.__MYDRTV_SYNC_POLICY__ = 'syncplay'` before the page loaded (the browser benchmark runs
 * the same page with Jellyfin SyncPlay's thresholds that way).
 */
import type { Schemas } from '../../api/client';
import { policyFromWire, SYNCPLAY_POLICY, type SyncPolicy } from '../../realtime';

declare global {
  interface Window {
    __MYDRTV_SYNC_POLICY__?: string;
  }
}

export function choosePolicy(wire: Schemas['SyncPolicy']): SyncPolicy {
  if (typeof window !== 'undefined' && window.__MYDRTV_SYNC_POLICY__ === 'syncplay') return SYNCPLAY_POLICY;
  return policyFromWire(wire);
}
