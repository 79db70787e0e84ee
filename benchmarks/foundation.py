"""Foundation benchmark: virtual-patient generation, validation and cohort-store writes.

Run: ``.venv/bin/python benchmarks/foundation.py``. Prints a table of wall times (seconds).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ithkit import io
from ithkit.evolution import virtual_patient
from ithkit.store import CohortStore


def timed(func, *args, repeat: int = 3, **kwargs):  # type: ignore[no-untyped-def]
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    rows = []
    tmp = Path(tempfile.mkdtemp())
    for n_mut, n_reg in ((100, 1), (1_000, 4), (10_000, 10)):
        t_gen, vp = timed(virtual_patient, seed=1, n_mutations=n_mut, n_regions=n_reg)
        path = io.write_table(vp.variants, tmp / f"v{n_mut}.tsv")
        t_read, _ = timed(io.read_variants, path)
        store = CohortStore(tmp / f"c{n_mut}.duckdb")
        t_store, _ = timed(store.write, vp.patient_id, {"genomic_variants": vp.variants})
        rows.append((n_mut, n_reg, n_mut * n_reg, t_gen, t_read, t_store))
    print(f"{'mutations':>9} {'regions':>7} {'rows':>7} {'generate_s':>10} {'read+validate_s':>15} "
          f"{'store_write_s':>13}")  # fmt: skip
    for r in rows:
        print(f"{r[0]:>9} {r[1]:>7} {r[2]:>7} {r[3]:>10.3f} {r[4]:>15.3f} {r[5]:>13.3f}")


if __name__ == "__main__":
    main()
