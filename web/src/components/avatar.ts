/** Which avatar image to show, and the letter shown without one. */
import type { Schemas } from '../api/client';

type AvatarImage = Schemas['AvatarImage'];

/** The URL of the smallest image at least `pixels` wide (the largest if none is), or null. */
export function avatarUrl(images: readonly AvatarImage[] | null | undefined, pixels: number): string | null {
  if (!images || images.length === 0) return null;
  const sorted = [...images].sort((a, b) => a.size - b.size);
  return (sorted.find((image) => image.size >= pixels) ?? sorted[sorted.length - 1]!).url;
}

/** The letter shown without an avatar: the first letter of the display name, else of the handle. */
export function initialOf(name: string | null | undefined, handle: string): string {
  const source = name?.trim() || handle;
  return (Array.from(source)[0] ?? '?').toUpperCase();
}
