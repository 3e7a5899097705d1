import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observe/logger.js';
import { type TopicIdEntry, TopicIds } from '../../src/proxy/topic-ids.js';

describe('topic id map', () => {
  it('learns ids from responses and asks the cluster only on a miss, once for everyone waiting', async () => {
    let listings = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const ids = new TopicIds(async (): Promise<TopicIdEntry[]> => {
      listings++;
      await gate;
      return [{ topicId: 'id-b', name: 'b' }];
    }, createLogger('silent'));
    ids.learn('id-a', 'a');
    await ids.resolve(['id-a']);
    expect(listings).toBe(0);
    const waiting = [ids.resolve(['id-b']), ids.resolve(['id-b', 'id-a'])];
    release();
    await Promise.all(waiting);
    expect(listings).toBe(1);
    expect(ids.name('id-b')).toBe('b');
  });

  it('does not ask again within a second for ids that stay unknown, and survives a failing listing', async () => {
    let listings = 0;
    const ids = new TopicIds(async () => {
      listings++;
      throw new Error('broker down');
    }, createLogger('silent'));
    await ids.resolve(['nope']);
    await ids.resolve(['nope']);
    expect(listings).toBe(1);
    expect(ids.name('nope')).toBeUndefined();
  });
});
