/** A person's picture: their avatar at the size that fits, or their initial on a coloured disc. */
import type { Schemas } from '../api/client';
import { avatarUrl, initialOf } from './avatar';

type AvatarImage = Schemas['AvatarImage'];

export function Avatar({
  images,
  name,
  handle,
  size,
  alt = '',
}: {
  images: readonly AvatarImage[] | null | undefined;
  name?: string | null;
  handle: string;
  size: number;
  /** Empty when the name is written beside it (the picture then adds nothing to read). */
  alt?: string;
}) {
  const url = avatarUrl(images, size);
  // Every size on offer, so a high-density screen picks a sharper one.
  const srcSet = images?.map((image) => `${image.url} ${image.size}w`).join(', ');
  const style = { width: size, height: size };
  if (url) {
    return (
      <img
        src={url}
        srcSet={srcSet}
        sizes={`${size}px`}
        alt={alt}
        width={size}
        height={size}
        style={style}
        className="shrink-0 rounded-full bg-slate-100 object-cover"
      />
    );
  }
  return (
    <span
      role={alt ? 'img' : undefined}
      aria-label={alt || undefined}
      aria-hidden={alt ? undefined : true}
      style={{ ...style, fontSize: Math.max(12, Math.round(size * 0.42)) }}
      className="inline-flex shrink-0 items-center justify-center rounded-full bg-indigo-100 font-bold text-indigo-900"
    >
      {initialOf(name, handle)}
    </span>
  );
}
