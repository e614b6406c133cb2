import { describe, expect, it } from 'vitest';
import { avatarUrl, initialOf } from './avatar';

const images = [
  { size: 256, url: '/avatars/u/d/256.webp' },
  { size: 64, url: '/avatars/u/d/64.webp' },
];

describe('avatarUrl', () => {
  it('picks the smallest image that is big enough, else the biggest there is', () => {
    expect(avatarUrl(images, 48)).toBe('/avatars/u/d/64.webp');
    expect(avatarUrl(images, 128)).toBe('/avatars/u/d/256.webp');
    expect(avatarUrl(images, 512)).toBe('/avatars/u/d/256.webp');
  });

  it('has nothing without an avatar', () => {
    expect(avatarUrl(null, 64)).toBeNull();
    expect(avatarUrl([], 64)).toBeNull();
  });
});

describe('initialOf', () => {
  it('takes the display name first, the handle otherwise, a whole character either way', () => {
    expect(initialOf('ana lima', 'ana_l')).toBe('A');
    expect(initialOf('  ', 'bo_x')).toBe('B');
    expect(initialOf(null, 'cy')).toBe('C');
    expect(initialOf('😀 smile', 'x')).toBe('😀');
  });
});
