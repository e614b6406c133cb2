import { describe, expect, it } from 'vitest';
import type { Comment } from '../../realtime';
import { groupMarks } from './marks';

const at = (id: number, seconds: number) => ({ id, position_seconds: seconds }) as Comment;

describe('groupMarks', () => {
  it('puts marks of the same hundredth of the video in one group, at its latest', () => {
    const groups = groupMarks([at(1, 1.0), at(2, 1.1), at(3, 15), at(4, 30)], 30);
    expect(groups.map((g) => [g.at, g.comments.map((c) => c.id)])).toEqual([
      [1.1, [1, 2]],
      [15, [3]],
      [30, [4]],
    ]);
  });
});
