"""Evolutionary steering (Nichol et al. 2015 Nat Commun 6:10097): a strong-selection
weak-mutation (SSWM) Markov chain on a genotype fitness landscape per drug, the probability of
ending in each genotype under a sequence of drugs, and the sequence of 1-3 steering drugs that
best avoids the most resistant genotype of a target drug."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ithkit._errors import InputError

__all__ = ["SteeringResult", "absorption_matrix", "read_landscapes", "sswm_matrix", "steer"]


def _n_loci(fitness: Sequence[float] | np.ndarray, source: str) -> int:
    n = len(fitness)
    loci = round(math.log2(n)) if n > 0 else 0
    if n < 2 or 2**loci != n:
        raise InputError(
            f"a landscape has {n} genotypes",
            source=source,
            fix="give 2^L fitness values, genotypes in binary order",
        )
    return loci


def sswm_matrix(fitness: Sequence[float], *, r: float = 0.0) -> np.ndarray:
    """Transition matrix of the SSWM chain on a landscape (Nichol et al. 2015, eqs 2-3).

    Genotype ``i`` is the binary number of its ``L`` loci (first locus the most significant
    bit); a step flips one locus. From ``g`` the population moves to a fitter neighbour ``h``
    with probability proportional to ``(f(h) - f(g))^r`` (``r = 0``: uniformly among the fitter
    neighbours); a genotype without a fitter neighbour (a peak) is absorbing.

    Parameters
    ----------
    fitness
        ``2^L`` fitness values (e.g. growth rates under the drug).
    r
        Bias towards larger fitness gains (0: none).

    Returns
    -------
    numpy.ndarray
        Row-stochastic ``2^L x 2^L`` matrix.

    Examples
    --------
    >>> sswm_matrix([1.0, 2.0, 3.0, 0.5]).tolist()
    [[0.0, 0.5, 0.5, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.5, 0.5, 0.0]]
    """
    f = np.asarray(fitness, dtype=float)
    loci = _n_loci(f, "fitness")
    n = f.size
    p = np.zeros((n, n))
    for g in range(n):
        gains = {}
        for k in range(loci):
            h = g ^ (1 << k)
            if f[h] > f[g]:
                gains[h] = (f[h] - f[g]) ** r
        if not gains:
            p[g, g] = 1.0
            continue
        total = sum(gains.values())
        for h, w in gains.items():
            p[g, h] = w / total
    return p


def absorption_matrix(transition: np.ndarray) -> np.ndarray:
    """Where the chain ends: the limit of ``P^k`` (exact: every step raises fitness, so any
    path ends at a peak within ``2^L`` steps).

    Examples
    --------
    >>> absorption_matrix(sswm_matrix([1.0, 2.0, 3.0, 0.5]))[0].tolist()
    [0.0, 0.5, 0.5, 0.0]
    """
    return np.linalg.matrix_power(np.asarray(transition, dtype=float), transition.shape[0])


@dataclass(frozen=True)
class SteeringResult:
    """Result of :func:`steer`.

    Attributes
    ----------
    target
        The drug whose most resistant genotype is to be avoided.
    p_highest
        Per drug given alone: the probability of ending in that drug's most resistant genotype
        (``drug, genotype, p_highest``).
    sequences
        The best steering sequence of each length 0..``max_steps`` before the target:
        ``n_steps, sequence`` (drugs joined with ``>``), ``p_highest`` (probability of the
        target's most resistant genotype), ``p_start`` (that probability with no steering).
    endpoint
        Probability of ending in each genotype (binary string) after the best sequence of
        each length: ``n_steps, genotype, probability``.
    """

    target: str
    p_highest: pd.DataFrame
    sequences: pd.DataFrame
    endpoint: pd.DataFrame

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``steering.tsv, steering_endpoints.tsv, highest_peak.tsv`` under ``out_dir``."""
        from ithkit.io import write_table

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        return {
            "steering": write_table(self.sequences, out / "steering.tsv"),
            "endpoints": write_table(self.endpoint, out / "steering_endpoints.tsv"),
            "highest_peak": write_table(self.p_highest, out / "highest_peak.tsv"),
        }


def steer(
    landscapes: Mapping[str, Sequence[float]],
    target: str,
    *,
    max_steps: int = 3,
    initial: Sequence[float] | None = None,
    r: float = 0.0,
) -> SteeringResult:
    """Find the drug sequence that best steers evolution away from a drug's most resistant
    genotype.

    Each drug runs to its fitness peaks (the absorbing limit of its SSWM chain) before the next
    starts; ``initial`` is the distribution of the starting genotype (default uniform, as in
    Nichol et al. 2015). Every ordered sequence of up to ``max_steps`` drugs (repeats allowed)
    is tried before ``target``.

    Parameters
    ----------
    landscapes
        Drug -> ``2^L`` fitness values (binary genotype order).
    target
        The drug given last.
    max_steps
        Longest steering sequence (0-3).
    initial
        Starting distribution over genotypes (sums to 1).
    r
        SSWM bias (see :func:`sswm_matrix`).

    Returns
    -------
    SteeringResult

    Examples
    --------
    Drug Y drives every genotype to ``01``, a peak of X that is not X's most resistant ``10``:

    >>> land = {"X": [1.0, 2.0, 3.0, 0.5], "Y": [1.0, 3.0, 0.5, 2.0]}
    >>> res = steer(land, "X", max_steps=1)
    >>> res.sequences[["n_steps", "sequence", "p_highest"]].values.tolist()
    [[0, '', 0.5], [1, 'Y', 0.0]]
    """
    if target not in landscapes:
        raise InputError(
            f"unknown target drug {target!r}",
            source="target",
            fix=f"use one of: {', '.join(landscapes)}",
        )
    if not 0 <= max_steps <= 3:
        raise InputError(f"max_steps is {max_steps}", source="max_steps", fix="use 0 to 3")
    sizes = {len(v) for v in landscapes.values()}
    if len(sizes) != 1:
        raise InputError(
            "landscapes differ in the number of genotypes",
            source="landscapes",
            fix="give every drug the same 2^L genotypes",
        )
    n = sizes.pop()
    loci = _n_loci(next(iter(landscapes.values())), "landscapes")
    start = np.full(n, 1.0 / n) if initial is None else np.asarray(initial, dtype=float)
    if start.shape != (n,) or np.any(start < 0) or not math.isclose(start.sum(), 1.0):
        raise InputError(
            "initial is not a distribution over the genotypes",
            source="initial",
            fix=f"give {n} non-negative values summing to 1",
        )
    names = list(landscapes)
    limit = {d: absorption_matrix(sswm_matrix(landscapes[d], r=r)) for d in names}

    def label(g: int) -> str:
        return format(g, f"0{loci}b")

    highest = []
    for d in names:
        peak = int(np.argmax(landscapes[d]))
        highest.append(
            {"drug": d, "genotype": label(peak), "p_highest": float((start @ limit[d])[peak])}
        )
    peak_t = int(np.argmax(landscapes[target]))
    p0 = float((start @ limit[target])[peak_t])
    seq_rows, end_rows = [], []
    for k in range(max_steps + 1):
        best: tuple[float, tuple[str, ...], np.ndarray] | None = None
        for seq in itertools.product(names, repeat=k):
            dist = start
            for d in seq:
                dist = dist @ limit[d]
            dist = dist @ limit[target]
            p = float(dist[peak_t])
            if best is None or p < best[0] - 1e-12:
                best = (p, seq, dist)
        assert best is not None
        seq_rows.append(
            {"n_steps": k, "sequence": ">".join(best[1]), "p_highest": best[0], "p_start": p0}
        )
        for g in range(n):
            end_rows.append({"n_steps": k, "genotype": label(g), "probability": float(best[2][g])})
    return SteeringResult(
        target, pd.DataFrame(highest), pd.DataFrame(seq_rows), pd.DataFrame(end_rows)
    )


def read_landscapes(path: str | Path) -> dict[str, list[float]]:
    """Read fitness landscapes: TSV/CSV ``drug, genotype, fitness`` (genotype a binary string
    such as ``0101``, first locus first).

    Raises
    ------
    ithkit.InputError
        Missing genotypes, bad genotype strings or non-numeric fitness.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found", source=p, fix="check the path")
    sep = "," if p.suffix == ".csv" else "\t"
    frame = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False)
    for col in ("drug", "genotype", "fitness"):
        if col not in frame.columns:
            raise InputError(
                f"missing column {col!r}",
                source=p,
                column=col,
                fix="columns: drug, genotype, fitness",
            )
    out: dict[str, dict[int, float]] = {}
    loci = None
    for i, row in enumerate(frame.itertuples(index=False)):
        g = str(row.genotype).strip()
        if not g or set(g) - {"0", "1"} or (loci is not None and len(g) != loci):
            raise InputError(
                f"genotype {g!r}",
                source=p,
                row=i + 2,
                column="genotype",
                fix="binary strings of one length, e.g. 0101",
            )
        loci = len(g)
        try:
            fit = float(row.fitness)
        except ValueError:
            raise InputError(
                f"fitness {row.fitness!r}",
                source=p,
                row=i + 2,
                column="fitness",
                fix="write a number",
            ) from None
        out.setdefault(str(row.drug), {})[int(g, 2)] = fit
    assert loci is not None
    result = {}
    for drug, values in out.items():
        if len(values) != 2**loci:
            raise InputError(
                f"drug {drug} has {len(values)} of {2**loci} genotypes",
                source=p,
                column="genotype",
                fix="give every genotype once per drug",
            )
        result[drug] = [values[g] for g in range(2**loci)]
    return result
