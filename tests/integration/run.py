#!/usr/bin/env python3
"""Run the integration tests: every tests/integration/test_*.py (unittest).

usage: python3 tests/integration/run.py [-q] [PATTERN_OR_TEST_NAME ...]
  no argument     every test
  test_relay      one file (module name)
  test_relay.Relay.test_four_cases   one test

The last line printed is "integration: N passed, M failed[, K skipped]"
(M counts failures and errors); the exit status is 1 if M > 0.
Environment: POSTERN (binary), POSTERN_KEEP, POSTERN_LOG (see harness.py).
"""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main(argv):
    verbosity = 2
    names = []
    for a in argv:
        if a == "-q":
            verbosity = 1
        else:
            names.append(a[:-3] if a.endswith(".py") else a)
    import harness
    if not os.access(harness.POSTERN, os.X_OK):
        print("run.py: binary %s not found (run make)" % harness.POSTERN)
        print("integration: 0 passed, 1 failed")
        return 1
    loader = unittest.TestLoader()
    if names:
        suite = loader.loadTestsFromNames(names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    t0 = time.time()
    result = unittest.TextTestRunner(verbosity=verbosity, stream=sys.stderr).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped - len(result.expectedFailures)
    sys.stderr.flush()
    line = "integration: %d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print("(%.1f s)" % (time.time() - t0))
    print(line)
    sys.stdout.flush()
    return 1 if failed or result.testsRun == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
