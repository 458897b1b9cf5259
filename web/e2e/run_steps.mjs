// The step runner of the browser tests (web/e2e/*.e2e.mjs; support.mjs builds the list): runs the
// steps in order, stops at the first failure (the later steps build on it), prints
// PASS/FAIL/SKIP lines and a summary, and sets the exit code.

/**
 * @param {string} title the summary line's name ("web client")
 * @param {{name: string, fn: () => Promise<void>}[]} steps
 * @param {() => Promise<void>} onFailure saves what helps to debug a failure (screenshots)
 * @returns {Promise<boolean>} whether every step passed
 */
export async function runSteps(title, steps, onFailure) {
  let passed = 0;
  let failed = 0;
  for (const s of steps) {
    if (failed) {
      console.log(`SKIP: ${s.name}`);
      continue;
    }
    const started = Date.now();
    try {
      await s.fn();
      passed++;
      console.log(`PASS: ${s.name} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
    } catch (err) {
      failed++;
      console.log(
        `FAIL: ${s.name}\n  ${String(err instanceof Error ? err.message : err)
          .split('\n')
          .join('\n  ')}`,
      );
      await onFailure().catch(() => undefined);
    }
  }
  console.log(
    `${title}: ${passed} passed, ${failed} failed, ${steps.length - passed - failed} skipped`,
  );
  process.exitCode = failed ? 1 : 0;
  return failed === 0;
}
