"""Run trial, then print one machine-readable line: ``N passed, N failed[, N skipped]``.

``python -m slurmrest.testing.runtests [trial options] [tests ...]`` (default: ``tests``).
Trial's own summary (``PASSED (successes=...)``) is for people; CI reads the last line this
prints. The exit status is non-zero when anything failed (or nothing ran).
"""

import os
import sys

from twisted.scripts import trial


def summary_line(result):
    """The counts of a finished trial result (a reporter)."""
    passed = result.successes + len(result.expectedFailures)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skips)
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    return line, passed, failed


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    # Let "tests" (a package in the checkout, not installed) be found from the checkout.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    config = trial.Options()
    try:
        config.parseOptions(argv)
        if not config["tests"]:  # no test named: the whole suite
            config = trial.Options()
            config.parseOptions(argv + ["tests"])
    except Exception as e:
        print(f"runtests: {e}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 2
    if config.get("jobs"):
        print("runtests: -j is not supported (the counts come from one in-process run)",
              file=sys.stderr)
        return 2
    trial._initialDebugSetup(config)
    runner = trial._makeRunner(config)
    suite = trial._getSuite(config)
    result = runner.run(suite)
    line, passed, failed = summary_line(result)
    sys.stdout.flush()
    sys.stderr.flush()
    summary_file = os.environ.get("SLURMREST_TEST_SUMMARY")
    if summary_file:
        with open(summary_file, "w", encoding="utf-8") as f:
            f.write(line + "\n")
    print(line, flush=True)
    return 1 if failed or not (passed or result.skips) else 0


if __name__ == "__main__":
    raise SystemExit(main())
