"""HER2 in situ hybridisation: per-cell ratio, ASCO/CAP group, genetic heterogeneity."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ithkit._errors import InputError
from ithkit.pathology import _columns as C


def asco_cap_group(ratio: float, her2_copies: float) -> int:
    """ASCO/CAP 2018 dual-probe ISH group (1-5) from the mean HER2/CEP17 ratio and copy number.

    Group 1: ratio >= 2.0 and HER2 >= 4.0 (positive); 2: ratio >= 2.0, HER2 < 4.0; 3: ratio < 2.0,
    HER2 >= 6.0; 4: ratio < 2.0, 4.0 <= HER2 < 6.0; 5: ratio < 2.0, HER2 < 4.0 (negative).
    Groups 2-4 need the concurrent IHC result (Wolff et al., J Clin Oncol 2018;36:2105).

    Examples
    --------
    >>> [asco_cap_group(r, c) for r, c in [(2.5, 5), (2.2, 3), (1.5, 7), (1.5, 4.5), (1.1, 2)]]
    [1, 2, 3, 4, 5]
    """
    if ratio >= 2.0:
        return 1 if her2_copies >= 4.0 else 2
    if her2_copies >= 6.0:
        return 3
    return 4 if her2_copies >= 4.0 else 5


@dataclass(frozen=True)
class IshResult:
    """HER2 ISH per region and slide.

    Attributes
    ----------
    table
        ``image, region, n_cells, mean_her2_copies, mean_cep17_copies, her2_cep17_ratio,
        asco_cap_group, percent_amplified_cells, heterogeneous`` (``ish.tsv``; region ``ALL``
        for the slide).
    cell_ratio
        HER2/CEP17 ratio of each cell (NaN where CEP17 is 0).
    amplified
        Whether each cell is amplified (ratio > ``cell_ratio_threshold``; HER2 >= 6 copies
        where CEP17 is 0).
    """

    table: pd.DataFrame
    cell_ratio: np.ndarray
    amplified: np.ndarray

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``ish.tsv`` into ``folder``."""
        from ithkit.io import write_table

        return [write_table(self.table, Path(folder) / "ish.tsv")]


def her2_ish(
    cells: pd.DataFrame,
    *,
    her2: str = "her2",
    cep17: str = "cep17",
    cell_ratio_threshold: float = 2.2,
    source: str = "detections",
) -> IshResult:
    """HER2 ISH heterogeneity from per-cell HER2 and CEP17 signal counts.

    The slide (and each region) gets the mean HER2 and CEP17 copies per cell, their ratio and the
    ASCO/CAP 2018 group (:func:`asco_cap_group`). A cell is amplified when its HER2/CEP17 ratio is
    > 2.2 (CAP's definition for genetic heterogeneity, Vance et al., Arch Pathol Lab Med
    2009;133:611); the tumour is heterogeneous when more than 5 % and less than 50 % of cells are
    amplified.

    Parameters
    ----------
    cells
        A frame with one row per counted cell, holding the two count columns (and ``image``,
        ``region`` when read with :func:`read_detections` and ``--columns her2=...,cep17=...``).
    her2, cep17
        The count columns.
    cell_ratio_threshold
        Per-cell ratio above which a cell is amplified.
    source
        Name used in error messages.

    Returns
    -------
    IshResult

    Examples
    --------
    >>> import pandas as pd
    >>> cells = pd.DataFrame({"her2": [2, 2, 3, 2, 12, 2, 2, 3, 2, 2],
    ...                       "cep17": [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]})
    >>> t = her2_ish(cells).table.iloc[0]
    >>> float(t["her2_cep17_ratio"]), float(t["percent_amplified_cells"]), bool(t["heterogeneous"])
    (1.6, 10.0, True)
    """
    for col in (her2, cep17):
        if col not in cells:
            raise InputError(f"no {col!r} column", source=source,
                             fix="map the counts with --columns her2=...,cep17=...")  # fmt: skip
    h = cells[her2].to_numpy(dtype=float)
    c = cells[cep17].to_numpy(dtype=float)
    for name, v in ((her2, h), (cep17, c)):
        bad = ~np.isfinite(v) | (v < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"signal count {v[i]} is not a count >= 0", source=source,
                             row=i + 2, column=name, fix="counts are integers >= 0")  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(c > 0, h / np.where(c > 0, c, 1), np.nan)
    amp = np.where(c > 0, ratio > cell_ratio_threshold, h >= 6)
    image = cells[C.IMAGE].astype(str).to_numpy() if C.IMAGE in cells else np.full(len(h), "image")
    region = cells[C.REGION].astype(str).to_numpy() if C.REGION in cells else None
    rows = []
    for im in dict.fromkeys(image):
        groups = [("ALL", image == im)]
        if region is not None:
            groups = [(r, (image == im) & (region == r)) for r in sorted(set(region[image == im]))
                      if r != C.NO_REGION] + groups  # fmt: skip
        for name, sel in groups:
            mh, mc = float(h[sel].mean()), float(c[sel].mean())
            if mc <= 0:
                raise InputError(f"mean CEP17 of {name!r} is 0", source=source, column=cep17,
                                 fix="check the CEP17 counts")  # fmt: skip
            r = mh / mc
            pa = 100.0 * float(amp[sel].mean())
            rows.append({
                "image": im, "region": name, "n_cells": int(sel.sum()),
                "mean_her2_copies": mh, "mean_cep17_copies": mc, "her2_cep17_ratio": r,
                "asco_cap_group": asco_cap_group(r, mh), "percent_amplified_cells": pa,
                "heterogeneous": bool(5.0 < pa < 50.0),
            })  # fmt: skip
    return IshResult(pd.DataFrame(rows), ratio, amp)
