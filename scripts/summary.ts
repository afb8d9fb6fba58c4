/**
 * Reads the JSON reports of vitest and Playwright and counts passed and failed tests, so that
 * `npm test` and `.ci/run` can close with one line `N passed, N failed` over every runner.
 * Skipped tests are neither (they are listed so a skip never hides silently).
 */

export interface Tally {
  passed: number;
  failed: number;
}

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests?: number;
  numTodoTests?: number;
  /** One per test file: a file that failed to load has status 'failed' and no failed test. */
  testResults?: { status?: string; assertionResults?: { status?: string }[] }[];
}

interface PlaywrightReport {
  stats: { expected: number; unexpected: number; flaky: number; skipped: number };
  errors?: unknown[];
}

function isVitest(report: unknown): report is VitestReport {
  return typeof report === 'object' && report !== null && 'numPassedTests' in report;
}

function isPlaywright(report: unknown): report is PlaywrightReport {
  return typeof report === 'object' && report !== null && 'stats' in report &&
    typeof (report as { stats: unknown }).stats === 'object';
}

export function summarize(runner: string, report: unknown): Tally {
  if (isVitest(report)) {
    // A file that fails to load (import error, a failing hook) has no failed test but must count
    // as a failure: one per such file.
    const brokenFiles = (report.testResults ?? []).filter(
      (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'),
    ).length;
    const failed = report.numFailedTests + brokenFiles;
    const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    console.log(`${runner}: ${report.numPassedTests} passed, ${failed} failed, ${skipped} skipped`);
    return { passed: report.numPassedTests, failed };
  }
  if (isPlaywright(report)) {
    const { expected, unexpected, flaky, skipped } = report.stats;
    // Retries are off; a flaky result would still mean a failure happened, so it counts as failed.
    const failed = unexpected + flaky + (report.errors?.length ?? 0);
    console.log(`${runner}: ${expected} passed, ${failed} failed, ${skipped} skipped`);
    return { passed: expected, failed };
  }
  console.log(`${runner}: unreadable report`);
  return { passed: 0, failed: 1 };
}
