import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createFairQueue } from './fair-queue.ts';

test('tenants take turns; within a tenant, first come first served', () => {
  const queue = createFairQueue<string>();
  for (let index = 1; index <= 3; index++) queue.push('noisy', `n${index}`);
  queue.push('quiet', 'q1');
  queue.push('other', 'o1');
  const order: string[] = [];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) order.push(next);
  assert.deepEqual(order, ['n1', 'q1', 'o1', 'n2', 'n3']);
  assert.equal(queue.size, 0);
});

test('bounded: past its bounds a push is refused and nothing is held', () => {
  const queue = createFairQueue<number>({ maxWaiters: 5, maxPerTenant: 3 });
  assert.deepEqual(
    [1, 2, 3, 4].map((item) => queue.push('noisy', item)),
    [true, true, true, false],
  );
  assert.ok(queue.push('quiet', 10), 'another tenant still gets in');
  assert.ok(queue.push('third', 20));
  assert.equal(queue.push('fourth', 30), false, 'the total bound holds');
  assert.equal(queue.size, 5);
  assert.equal(queue.sizeOf('fourth'), 0);
});

test('property: a waiter at the head of its line is served before any tenant gets a second turn, and removal never loses or repeats a waiter', () => {
  const tenants = ['a', 'b', 'c', 'd', 'e'];
  const operation = fc.oneof(
    fc.record({ type: fc.constant('push' as const), tenant: fc.constantFrom(...tenants) }),
    fc.record({ type: fc.constant('shift' as const) }),
    fc.record({ type: fc.constant('remove' as const), pick: fc.nat() }),
  );
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 300 }), (operations) => {
      const queue = createFairQueue<{ id: number; tenant: string }>();
      const queued: Array<{ id: number; tenant: string }> = [];
      const served: Array<{ id: number; tenant: string }> = [];
      /** Per waiter at the head of its line: the tenants served since it got there. */
      const servedSinceHead = new Map<number, string[]>();
      let nextId = 0;
      const headOf = (tenant: string) => queued.find((waiter) => waiter.tenant === tenant);
      const noteHeads = () => {
        for (const tenant of tenants) {
          const head = headOf(tenant);
          if (head !== undefined && !servedSinceHead.has(head.id)) servedSinceHead.set(head.id, []);
        }
      };
      for (const step of operations) {
        if (step.type === 'push') {
          const waiter = { id: nextId++, tenant: step.tenant };
          assert.ok(queue.push(waiter.tenant, waiter));
          queued.push(waiter);
        } else if (step.type === 'remove') {
          const waiter = queued[step.pick % Math.max(1, queued.length)];
          if (waiter === undefined) continue;
          assert.ok(queue.remove(waiter.tenant, waiter));
          assert.equal(queue.remove(waiter.tenant, waiter), false, 'removed once');
          queued.splice(queued.indexOf(waiter), 1);
          servedSinceHead.delete(waiter.id);
        } else {
          const waiter = queue.shift();
          if (queued.length === 0) {
            assert.equal(waiter, undefined);
            continue;
          }
          assert.ok(waiter !== undefined);
          assert.equal(waiter, headOf(waiter.tenant), 'first come, first served within a tenant');
          queued.splice(queued.indexOf(waiter), 1);
          served.push(waiter);
          servedSinceHead.delete(waiter.id);
          for (const others of servedSinceHead.values()) {
            others.push(waiter.tenant);
            assert.equal(
              new Set(others).size,
              others.length,
              'no tenant got a second turn while another waited at the head of its line',
            );
          }
        }
        noteHeads();
        assert.equal(queue.size, queued.length);
      }
      assert.equal(new Set(served.map((waiter) => waiter.id)).size, served.length, 'nobody served twice');
    }),
    { seed: 42, numRuns: 300 },
  );
});
