"""Fuzz every reader longer than the suite does and print the figures of docs/reliability.md.

Runs ``tests/robustness`` under the hypothesis profile ``long`` (1000 examples per property,
random seeds) or the one named on the command line, then prints, per reader, the inputs tried
and the exceptions other than ``InputError`` (must be 0: every failure is a test failure).

    python benchmarks/robustness.py            # profile long (minutes)
    python benchmarks/robustness.py bench      # 200 examples per property
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(profile: str = "long") -> int:
    import pytest

    os.environ["HYPOTHESIS_PROFILE"] = profile
    sys.path.insert(0, str(ROOT))
    t0 = time.perf_counter()
    code = pytest.main([str(ROOT / "tests" / "robustness"), "-q", "-p", "no:cacheprovider", "-x"])
    seconds = time.perf_counter() - t0
    module = next(m for n, m in sys.modules.items() if n.endswith("test_fuzz_readers"))
    EXAMPLES = module.EXAMPLES

    print(f"\nprofile {profile}: {seconds:.0f} s, pytest exit code {int(code)}")
    print(f"{'reader':<12} {'inputs':>8}")
    for name, n in sorted(EXAMPLES.items()):
        print(f"{name:<12} {n:>8}")
    print(f"{'total':<12} {sum(EXAMPLES.values()):>8}")
    print("exceptions other than InputError: " + ("0" if code == 0 else "see the failures above"))
    return int(code)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
