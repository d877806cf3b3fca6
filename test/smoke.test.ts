import { describe, expect, it } from 'vitest';
import { Model } from '@nozbe/watermelondb';
import { field } from '@nozbe/watermelondb/decorators';

class Thing extends Model {
  static table = 'things';
  @field('name') name!: string;
}

describe('toolchain', () => {
  it('keeps decorated class fields (useDefineForClassFields: false)', () => {
    expect(Object.getOwnPropertyDescriptor(Thing.prototype, 'name')?.get).toBeTypeOf('function');
  });
});
