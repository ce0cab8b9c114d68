/**
 * The phone's clock stands at the instant the contract test froze the API at (Wednesday 2026-03-11,
 * 10:00 Asia/Shanghai), so "today", "now" and token expiry agree with the recorded fixtures. Only Date
 * is faked: timers run for real, as the simulator needs them.
 */
const CONTRACT_NOW = new Date('2026-03-11T02:00:00Z');

beforeEach(() => {
  jest.useFakeTimers({
    now: CONTRACT_NOW,
    doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval',
      'clearInterval', 'queueMicrotask', 'requestAnimationFrame', 'cancelAnimationFrame',
      'requestIdleCallback', 'cancelIdleCallback', 'hrtime', 'performance'],
  });
});

afterEach(() => {
  jest.useRealTimers();
});

module.exports = { CONTRACT_NOW };
