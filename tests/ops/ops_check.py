"""PASS/FAIL reporting shared by the Python ops tests (manifests_test.py,
k8s_images_test.py): check() prints one line per assertion and remembers the
failures; summary() prints the closing line and returns the exit code."""

failures = []


def check(ok, message):
    print(("PASS: " if ok else "FAIL: ") + message)
    if not ok:
        failures.append(message)
    return ok


def summary():
    print(f"{'FAILED' if failures else 'OK'}: {len(failures)} failure(s)")
    return 1 if failures else 0
