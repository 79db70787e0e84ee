"""Matching two clusterings of the same mutations (e.g. true vs inferred clones)."""

from __future__ import annotations

import pandas as pd

from ithkit._errors import InputError


def match_clones(reference: pd.DataFrame, inferred: pd.DataFrame) -> pd.DataFrame:
    """Map each reference clone to the inferred clone holding most of its mutations.

    Parameters
    ----------
    reference
        ``mutation_id, clone_id`` (e.g. a virtual patient's true clones).
    inferred
        ``mutation_id, clone_id`` (e.g. ``GenomicResult.mutations``).

    Returns
    -------
    pandas.DataFrame
        ``reference_clone, inferred_clone, n_mutations, n_shared, fraction_shared``: one row per
        reference clone (majority overlap; ``inferred_clone`` blank when none of its
        mutations was clustered), ``fraction_shared`` in 0..1.

    Examples
    --------
    >>> ref = pd.DataFrame({"mutation_id": list("abcd"), "clone_id": ["C1", "C1", "C2", "C2"]})
    >>> inf = pd.DataFrame({"mutation_id": list("abcd"), "clone_id": ["C2", "C2", "C1", "C2"]})
    >>> match_clones(ref, inf)[["reference_clone", "inferred_clone", "n_shared"]].values.tolist()
    [['C1', 'C2', 2], ['C2', 'C1', 1]]
    """
    for name, frame in (("reference", reference), ("inferred", inferred)):
        missing = {"mutation_id", "clone_id"} - set(frame.columns)
        if missing:
            raise InputError(f"columns {sorted(missing)} missing", source=name,
                             fix="give mutation_id and clone_id")  # fmt: skip
    ref = reference[["mutation_id", "clone_id"]].astype(str).drop_duplicates("mutation_id")
    inf = inferred[["mutation_id", "clone_id"]].astype(str).drop_duplicates("mutation_id")
    both = ref.merge(inf, on="mutation_id", how="left", suffixes=("_ref", "_inf"))
    rows = []
    for clone, part in both.groupby("clone_id_ref", sort=False):
        counts = part["clone_id_inf"].value_counts(sort=False)
        counts = counts.sort_values(ascending=False, kind="stable")
        best = str(counts.index[0]) if len(counts) else ""
        shared = int(counts.iloc[0]) if len(counts) else 0
        rows.append({"reference_clone": str(clone), "inferred_clone": best,
                     "n_mutations": len(part), "n_shared": shared,
                     "fraction_shared": shared / len(part)})  # fmt: skip
    return pd.DataFrame(rows, columns=["reference_clone", "inferred_clone", "n_mutations",
                                       "n_shared", "fraction_shared"])  # fmt: skip
