/** Matching a search against a video: every word of the query in its title, description or owner's handle. */
import type { Schemas } from '../../api/client';

export function words(query: string): string[] {
  return query.toLocaleLowerCase().split(/\s+/).filter(Boolean);
}

export function matches(video: Schemas['Video'], query: string): boolean {
  const haystack = `${video.title} ${video.description} @${video.owner.handle}`.toLocaleLowerCase();
  return words(query).every((word) => haystack.includes(word));
}
