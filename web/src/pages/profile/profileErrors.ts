/**
 * The server's refusals of a profile change, said next to the field they concern: a display name
 * or bio that is too long or holds characters that are refused (control characters, bidi
 * overrides, invisible ones), and an avatar that is not a picture we take.
 */
import { ApiError, describeError } from '../../api/errors';

export type ProfileField = 'display_name' | 'bio';

export interface FieldError {
  /** The field the error is about; null for one that concerns the whole form. */
  field: ProfileField | null;
  message: string;
}

function detail(error: ApiError, key: string): string | number | null {
  const details = error.details;
  if (typeof details !== 'object' || details === null) return null;
  const value = (details as Record<string, unknown>)[key];
  return typeof value === 'string' || typeof value === 'number' ? value : null;
}

function refusedCharacter(error: ApiError, what: string): string {
  const character = detail(error, 'character');
  return `${what} holds a character that is not allowed${character ? ` (${character})` : ''}: control characters, text-direction overrides and invisible characters are refused.`;
}

export function profileError(error: unknown): FieldError {
  if (!(error instanceof ApiError)) return { field: null, message: describeError(error) };
  const max = detail(error, 'max_chars');
  switch (error.code) {
    case 'display_name_too_long':
      return {
        field: 'display_name',
        message: `The display name is too long: at most ${max ?? 50} characters.`,
      };
    case 'display_name_empty':
      return {
        field: 'display_name',
        message: 'The display name is empty. Clear it to show your handle instead.',
      };
    case 'display_name_invalid_characters':
      return { field: 'display_name', message: refusedCharacter(error, 'The display name') };
    case 'bio_too_long':
      return { field: 'bio', message: `The bio is too long: at most ${max ?? 500} characters.` };
    case 'bio_invalid_characters':
      return { field: 'bio', message: refusedCharacter(error, 'The bio') };
    default:
      return { field: null, message: describeError(error) };
  }
}

const AVATAR_WORDS: Record<string, string> = {
  avatar_too_large: 'That picture is too large: at most 10 MB.',
  not_an_image: 'That file is not a picture. Choose a JPEG, PNG, WebP or GIF image.',
  avatar_svg_refused: 'SVG drawings cannot be avatars. Choose a JPEG, PNG, WebP or GIF image.',
  avatar_too_many_pixels: 'That picture has too many pixels (at most 40 megapixels). Choose a smaller one.',
  avatar_animated: 'Animated pictures cannot be avatars. Choose a still image.',
  avatar_damaged: 'That picture is damaged and could not be read. Try another one.',
  empty_upload: 'That file is empty.',
  payload_too_large: 'That picture is too large: at most 10 MB.',
};

/** Why an avatar was refused, in words. */
export function avatarError(error: unknown): string {
  if (error instanceof ApiError) {
    const words = AVATAR_WORDS[error.code];
    if (words) return words;
    if (error.status === 413) return AVATAR_WORDS['avatar_too_large']!;
  }
  return describeError(error);
}
