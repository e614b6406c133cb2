import { describe, expect, it } from 'vitest';
import { appendNew } from './usePaged';

const id = (item: { id: string }) => item.id;

describe('appendNew', () => {
  it('keeps the known order and adds only items not seen yet', () => {
    const known = [{ id: 'a' }, { id: 'b' }];
    expect(appendNew(known, [{ id: 'b' }, { id: 'c' }], id).map(id)).toEqual(['a', 'b', 'c']);
  });

  it('adds a whole page to an empty list', () => {
    expect(appendNew([], [{ id: 'x' }, { id: 'y' }], id).map(id)).toEqual(['x', 'y']);
  });
});
