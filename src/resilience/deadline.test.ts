import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../core/index.ts';
import { createFakeClock } from '../../test/support/fake-clock.ts';
import { createAttemptGuard, createDeadline } from './deadline.ts';

const never = () => new Promise<never>(() => undefined);

test('without a timeout a deadline allocates no timer and keeps the caller signal', () => {
  const clock = createFakeClock();
  const controller = new AbortController();
  const deadline = createDeadline({ clock, signal: controller.signal });
  assert.equal(deadline.signal, controller.signal);
  assert.equal(deadline.remainingMs(), Infinity);
  assert.equal(clock.pendingTimers(), 0);
});

test('a deadline aborts its signal with a TimeoutError when the budget runs out', async () => {
  const clock = createFakeClock();
  const deadline = createDeadline({ clock, timeoutMs: 1_000 });
  await clock.advance(400);
  assert.equal(deadline.remainingMs(), 600);
  assert.equal(deadline.expired(), false);
  await clock.advance(600);
  assert.ok(deadline.signal?.aborted);
  assert.equal((deadline.signal?.reason as Error).name, 'TimeoutError');
  assert.ok(deadline.expired());
});

test('the caller aborting ends the combined signal at once; dispose cancels the timer', async () => {
  const clock = createFakeClock();
  const controller = new AbortController();
  const deadline = createDeadline({ clock, timeoutMs: 1_000, signal: controller.signal });
  controller.abort(new Error('client left'));
  assert.ok(deadline.signal?.aborted);
  deadline.dispose();
  await clock.advance(0);
  assert.equal(clock.pendingTimers(), 0);
});

test('the first-token timeout fails an attempt whose source ignores its signal', async () => {
  const clock = createFakeClock();
  const deadline = createDeadline({ clock });
  const guard = createAttemptGuard({
    clock,
    deadline,
    timeouts: { firstTokenMs: 500 },
    streaming: true,
    provider: 'openai',
    deployment: 'd',
  });
  const waiting = guard.step(never());
  waiting.catch(() => undefined);
  await clock.advance(500);
  await assert.rejects(
    waiting,
    (error: unknown) =>
      ProviderError.isProviderError(error) &&
      error.kind === 'timeout' &&
      /first token within 500 ms/.test(error.message),
  );
  assert.ok(guard.signal?.aborted, 'the upstream call is aborted too');
});

test('after the first content, only the idle timeout applies, reset by every chunk', async () => {
  const clock = createFakeClock();
  const deadline = createDeadline({ clock });
  const guard = createAttemptGuard({
    clock,
    deadline,
    timeouts: { firstTokenMs: 100, idleMs: 300 },
    streaming: true,
    provider: 'openai',
    deployment: 'd',
  });
  assert.equal(await guard.step(Promise.resolve('first')), 'first');
  guard.firstContent();
  await clock.advance(250);
  assert.equal(await guard.step(Promise.resolve('second')), 'second', 'the first-token timer is gone');
  await clock.advance(250);
  const stalled = guard.step(never());
  stalled.catch(() => undefined);
  await clock.advance(300);
  await assert.rejects(
    stalled,
    (error: unknown) =>
      ProviderError.isProviderError(error) &&
      error.kind === 'timeout' &&
      /silent for 300 ms/.test(error.message),
  );
  guard.dispose();
});

test('whole calls ignore stream timeouts but still stop at the deadline', async () => {
  const clock = createFakeClock();
  const deadline = createDeadline({ clock, timeoutMs: 1_000 });
  const guard = createAttemptGuard({
    clock,
    deadline,
    timeouts: { firstTokenMs: 10 },
    streaming: false,
    provider: 'openai',
    deployment: 'd',
  });
  const waiting = guard.step(never());
  waiting.catch(() => undefined);
  await clock.advance(999);
  assert.equal(guard.signal?.aborted, false);
  await clock.advance(1);
  await assert.rejects(
    waiting,
    (error: unknown) => ProviderError.isProviderError(error) && error.kind === 'timeout',
  );
  guard.dispose();
  deadline.dispose();
});

test('onAbort callbacks run once when the deadline passes or the caller aborts, and not after unsubscribing', async () => {
  const clock = createFakeClock();
  const deadline = createDeadline({ clock, timeoutMs: 1_000 });
  const seen: string[] = [];
  deadline.onAbort((reason) => seen.push(`first ${(reason as Error).name}`));
  const unsubscribe = deadline.onAbort(() => seen.push('unsubscribed'));
  unsubscribe();
  await clock.advance(1_000);
  deadline.onAbort((reason) => seen.push(`late ${(reason as Error).name}`));
  assert.deepEqual(seen, ['first TimeoutError', 'late TimeoutError']);
  const caller = new AbortController();
  const second = createDeadline({ clock, timeoutMs: 1_000, signal: caller.signal });
  const reasons: unknown[] = [];
  second.onAbort((reason) => reasons.push(reason));
  caller.abort('client left');
  assert.deepEqual(reasons, ['client left']);
  second.dispose();
});

test('once the deadline passed, every step of the attempt fails at once, and a source failing later is not an unhandled rejection', async () => {
  const clock = createFakeClock();
  const deadline = createDeadline({ clock, timeoutMs: 100 });
  const guard = createAttemptGuard({
    clock,
    deadline,
    timeouts: {},
    streaming: true,
    provider: 'openai',
    deployment: 'd',
  });
  assert.equal(await guard.step(Promise.resolve('chunk')), 'chunk');
  const stalled = guard.step(never());
  stalled.catch(() => undefined);
  await clock.advance(100);
  await assert.rejects(
    stalled,
    (error: unknown) => ProviderError.isProviderError(error) && error.kind === 'timeout',
  );
  let failLater: (error: Error) => void = () => undefined;
  const late = new Promise<never>((_resolve, reject) => (failLater = reject));
  await assert.rejects(guard.step(late), (error: unknown) => ProviderError.isProviderError(error));
  failLater(new Error('the socket closed after all'));
  await clock.advance(0);
  guard.dispose();
  deadline.dispose();
});
