import type { FollowerStats } from '../../realtime';

/**
 * How often the player was put back in step, in words that do not alarm: a gentle correction
 * (playing a little faster or slower until caught up) counts once however many small rate steps
 * it took; a jump is a seek, and only said when there was one.
 */
export function corrections(stats: Pick<FollowerStats, 'rateCorrections' | 'correctiveSeeks'>): string {
  const { rateCorrections: gentle, correctiveSeeks: jumps } = stats;
  if (gentle === 0 && jumps === 0) return 'No corrections needed';
  const parts = [];
  if (gentle > 0) parts.push(`${gentle} gentle ${gentle === 1 ? 'correction' : 'corrections'}`);
  if (jumps > 0) parts.push(`${jumps} ${jumps === 1 ? 'jump' : 'jumps'}`);
  return `Kept in step: ${parts.join(', ')}`;
}
