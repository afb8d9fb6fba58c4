// The closing `N passed, N failed` line decides CI: check how scripts/summary.ts reads the reports.
import { describe, expect, it, vi } from 'vitest';
import { summarize } from '../../scripts/summary.js';

describe('the test summary', () => {
  vi.spyOn(console, 'log').mockImplementation(() => undefined);

  it('counts a failed vitest test once, and a file that failed to load as one failure', () => {
    const report = {
      numPassedTests: 10,
      numFailedTests: 1,
      numPendingTests: 2,
      testResults: [
        { status: 'failed', assertionResults: [{ status: 'passed' }, { status: 'failed' }] },
        { status: 'failed', assertionResults: [] },
        { status: 'passed', assertionResults: [{ status: 'passed' }] },
      ],
    };
    expect(summarize('vitest', report)).toEqual({ passed: 10, failed: 2 });
  });

  it('counts Playwright failures, flaky results and global errors as failed', () => {
    expect(summarize('playwright', { stats: { expected: 5, unexpected: 1, flaky: 1, skipped: 0 }, errors: [{}] })).toEqual({ passed: 5, failed: 3 });
  });

  it('treats an unreadable report as a failure', () => {
    expect(summarize('mystery', { hello: 1 })).toEqual({ passed: 0, failed: 1 });
  });
});
