import { describe, expect, it, vi } from 'vitest';
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

  it('keeps the names of the last listing in Kafka\'s order, and lists again only when it is over a second old', async () => {
    let listings = 0;
    const ids = new TopicIds(async (): Promise<TopicIdEntry[]> => {
      listings++;
      return [
        { topicId: 'id-b', name: 'b' },
        { topicId: 'id-u', name: '__consumer_offsets' },
        { topicId: 'id-B', name: 'B' },
        { topicId: 'id-a', name: 'a-1' },
        { topicId: 'id-a', name: 'a' },
      ];
    }, createLogger('silent'));
    expect(ids.topicNames()).toBeUndefined();
    expect(ids.listedRecently()).toBe(false);
    await Promise.all([ids.relist(), ids.relist()]);
    expect(listings).toBe(1);
    // By UTF-16 code units, as Java's String.compareTo: upper case and "_" before lower case, "a" before "a-1".
    expect(ids.topicNames()).toEqual(['B', '__consumer_offsets', 'a', 'a-1', 'b']);
    expect(ids.listedRecently()).toBe(true);
    await ids.relist();
    expect(listings).toBe(1);
  });

  it('keeps the previous listing when a later one fails', async () => {
    let fail = false;
    const ids = new TopicIds(async () => {
      if (fail) throw new Error('broker down');
      return [{ topicId: 'id-a', name: 'a' }];
    }, createLogger('silent'));
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      await ids.relist();
      fail = true;
      vi.advanceTimersByTime(5000);
      await ids.relist();
      expect(ids.topicNames()).toEqual(['a']);
      expect(ids.listedRecently()).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});
