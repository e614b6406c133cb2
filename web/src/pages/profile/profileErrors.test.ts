import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors';
import { avatarError, profileError } from './profileErrors';

describe('profileError', () => {
  it('puts a refused character next to the field, naming it', () => {
    const refused = new ApiError(400, 'display_name_invalid_characters', 'no', { character: 'U+202E' });
    expect(profileError(refused)).toEqual({
      field: 'display_name',
      message: expect.stringContaining('(U+202E)'),
    });
    expect(profileError(new ApiError(400, 'bio_invalid_characters', 'no')).field).toBe('bio');
  });

  it('says the limit of a field that is too long', () => {
    const long = new ApiError(400, 'bio_too_long', 'no', { max_chars: 500 });
    expect(profileError(long)).toEqual({
      field: 'bio',
      message: 'The bio is too long: at most 500 characters.',
    });
    expect(profileError(new ApiError(400, 'display_name_too_long', 'no')).message).toContain('50');
  });

  it('leaves other errors to the whole form', () => {
    expect(profileError(new ApiError(0, 'network', '')).field).toBeNull();
    expect(profileError(new Error('x')).field).toBeNull();
  });
});

describe('avatarError', () => {
  it('says why a file was refused', () => {
    expect(avatarError(new ApiError(422, 'not_an_image', 'no'))).toMatch(/not a picture/);
    expect(avatarError(new ApiError(413, 'something_new', 'no'))).toMatch(/too large/);
    expect(avatarError(new ApiError(422, 'avatar_svg_refused', 'no'))).toMatch(/SVG/);
  });
});
