"""Moved to tests/lib/harness.py. This shim keeps `import harness` working
for a test that still puts tests/daemon on sys.path: it loads the real
module and hands it to the importer in its own place."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
del sys.modules[__name__]
import harness  # noqa: E402,F401 - tests/lib/harness.py, now sys.modules["harness"]
