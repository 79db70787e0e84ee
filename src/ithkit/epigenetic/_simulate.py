"""Read-level methylation calls for virtual patients, with known epiallele mixtures.

Each locus of ``cpgs_per_locus`` CpGs has a normal-cell epiallele (all unmethylated or all
methylated, as most CpG-island and body loci are in normal tissue). The trunk clone inherits the
normal epialleles and each clone then inherits its parent's, every locus switching with
probability ``epimutation_rate`` to another epiallele (clonal epimutations, passed on down the
clone tree like mutations). A region's reads at a locus come from normal cells with probability
``1 - purity`` and from clone k with probability ``purity * prevalence_k``; each CpG call then
flips with probability ``drift`` (stochastic, non-clonal epipolymorphism). The truth tables give
the epiallele of every clone and the expected epiallele mixture of every region before drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ithkit._errors import InputError
from ithkit._trees import preorder


@dataclass(frozen=True)
class MethylationSimulation:
    """Simulated read-level calls of a patient's regions and the truth behind them.

    Attributes
    ----------
    calls
        ``region_id, read_id, chrom, position, methylated`` (reads of one locus each, all its
        CpGs).
    loci
        ``locus_id, chrom, start, end, n_cpgs`` (start/end: first and last CpG position).
    epialleles
        Truth: ``population, locus_id, pattern`` (population = clone id or ``normal``; pattern
        a string of 0/1, first CpG first).
    mixtures
        Truth: ``region_id, locus_id, pattern, fraction`` — the expected epiallele fractions of
        each region's reads before drift.
    drift
        Per-call flip probability used.
    """

    calls: pd.DataFrame
    loci: pd.DataFrame
    epialleles: pd.DataFrame
    mixtures: pd.DataFrame
    drift: float

    @property
    def region_ids(self) -> list[str]:
        return list(dict.fromkeys(self.calls["region_id"]))

    def region_calls(self, region_id: str) -> pd.DataFrame:
        """Calls of one region (``read_id, chrom, position, methylated``)."""
        sel = self.calls[self.calls["region_id"] == region_id]
        return sel.drop(columns="region_id").reset_index(drop=True)

    def write(self, out_dir: str | Path, *, compress: bool = True) -> dict[str, Path]:
        """One Bismark CpG-context file per region, ``CpG_context_<region>.txt(.gz)``."""
        from ithkit._atomic import atomic_path

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = {}
        for rid in self.region_ids:
            c = self.region_calls(rid)
            meth = c["methylated"].to_numpy()
            frame = pd.DataFrame(
                {
                    "read_id": c["read_id"],
                    "state": np.where(meth, "+", "-"),
                    "chrom": c["chrom"],
                    "position": c["position"],
                    "call": np.where(meth, "Z", "z"),
                }
            )
            name = f"CpG_context_{rid}.txt" + (".gz" if compress else "")
            path = out / name
            with atomic_path(path) as tmp:
                text = "Bismark methylation extractor version v0.24.2 (ithkit simulation)\n"
                text += frame.to_csv(sep="\t", header=False, index=False, lineterminator="\n")
                if compress:
                    import gzip

                    tmp.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
                else:
                    tmp.write_text(text, encoding="utf-8")
            files[rid] = path
        return files


def _prevalence(clones: pd.DataFrame, clone_ccf: pd.DataFrame) -> pd.DataFrame:
    """Clone x region prevalence (fractions of cancer cells), from ``prevalence`` or from CCFs
    minus the children's CCFs."""
    ids = [str(c) for c in clones["clone_id"]]
    if "prevalence" in clone_ccf.columns:
        wide = clone_ccf.pivot_table(
            index="clone_id", columns="sample_id", values="prevalence", aggfunc="first"
        )
    else:
        ccf = clone_ccf.pivot_table(
            index="clone_id", columns="sample_id", values="ccf", aggfunc="first"
        )
        ccf.index = ccf.index.astype(str)
        ccf = ccf.reindex(ids).fillna(0.0)
        wide = ccf.copy()
        for cid, parent in zip(ids, clones["parent"], strict=True):
            if parent is not None and not pd.isna(parent):
                wide.loc[str(parent)] -= ccf.loc[cid]
        wide = wide.clip(lower=0.0)
    wide.index = wide.index.astype(str)
    wide.columns = wide.columns.astype(str)
    wide = wide.reindex(ids).fillna(0.0)
    tot = wide.sum(axis=0)
    if (tot <= 0).any():
        bad = str(tot.index[np.flatnonzero(tot.to_numpy() <= 0)[0]])
        raise InputError(
            f"region {bad} has no clone with a positive prevalence",
            source="clone_ccf",
            fix="give clone CCFs (fractions 0..1) of every region",
        )
    return wide / tot


def simulate_methylation(
    clones: pd.DataFrame,
    clone_ccf: pd.DataFrame,
    *,
    purity: float | pd.DataFrame | None = None,
    n_loci: int = 300,
    cpgs_per_locus: int = 4,
    depth: float = 30.0,
    epimutation_rate: float = 0.1,
    drift: float = 0.02,
    chrom: str = "chr1",
    seed: int = 0,
) -> MethylationSimulation:
    """Simulate read-level CpG calls per region from a clone tree and clone CCFs.

    Parameters
    ----------
    clones
        The clone tree: ``clone_id, parent`` (parent missing for the trunk), e.g.
        ``virtual_patient(seed).clones``.
    clone_ccf
        ``clone_id, sample_id`` and ``prevalence`` (or ``ccf``; prevalences are then the CCF
        minus the children's CCFs), e.g. ``virtual_patient(seed).clone_ccf``.
    purity
        Tumour content per region (fraction in (0, 1]): one value, a ``sample_id, purity``
        table (a virtual patient's ``purity``) or None for 1.
    n_loci
        Loci of ``cpgs_per_locus`` CpGs.
    cpgs_per_locus
        CpGs per locus, 2..16.
    depth
        Mean reads per locus and region (Poisson).
    epimutation_rate
        Probability that a locus's epiallele changes on the branch to a clone (fraction).
    drift
        Probability that a single CpG call flips (fraction).
    chrom
        Chromosome name of the loci.
    seed
        Seed of every random draw.

    Returns
    -------
    MethylationSimulation
        Calls and truth.

    Examples
    --------
    >>> from ithkit.evolution import virtual_patient
    >>> vp = virtual_patient(seed=1)
    >>> sim = simulate_methylation(vp.clones, vp.clone_ccf, purity=vp.purity, n_loci=20, seed=1)
    >>> sim.region_ids
    ['R1', 'R2', 'R3', 'R4']
    """
    for name, value, lo, hi in (
        ("epimutation_rate", epimutation_rate, 0.0, 1.0),
        ("drift", drift, 0.0, 0.5),
    ):
        if not lo <= value <= hi:
            raise InputError(
                f"{name} is {value}", source=name, fix=f"a probability in [{lo}, {hi}]"
            )
    if not 2 <= cpgs_per_locus <= 16:
        raise InputError(
            f"cpgs_per_locus is {cpgs_per_locus}", source="cpgs_per_locus", fix="2..16"
        )
    if n_loci < 1 or depth <= 0:
        raise InputError(
            f"n_loci {n_loci}, depth {depth}", source="n_loci", fix="n_loci >= 1, depth > 0"
        )
    for col in ("clone_id", "parent"):
        if col not in clones.columns:
            raise InputError(f"no column {col!r}", source="clones", fix="clone_id, parent")
    prev = _prevalence(clones, clone_ccf)
    region_ids = list(prev.columns)
    pur = _purity(purity, region_ids)
    rng = np.random.default_rng(seed)
    k = cpgs_per_locus
    full = (1 << k) - 1
    # normal epialleles: 60 % unmethylated, 40 % methylated
    normal = np.where(rng.random(n_loci) < 0.4, full, 0).astype(np.int64)
    order = preorder(clones["clone_id"], clones["parent"])
    parent_of = {
        str(c): (None if p is None or pd.isna(p) else str(p))
        for c, p in zip(clones["clone_id"], clones["parent"], strict=True)
    }
    pattern = {"normal": normal}
    for cid in order:
        parent = parent_of[cid]
        base = pattern[parent] if parent is not None else normal
        switch = rng.random(n_loci) < epimutation_rate
        # a clonal epimutation: the whole locus flips (gain/loss of methylation) half the
        # time, otherwise a random other epiallele
        new = np.where(
            rng.random(n_loci) < 0.5,
            full - base,
            (base + rng.integers(1, full + 1, size=n_loci)) % (full + 1),
        )
        pattern[cid] = np.where(switch, new, base)
    pops = ["normal", *order]
    pat = np.stack([pattern[p] for p in pops])  # (populations, loci)
    # loci positions: 10 kb apart, CpGs 2-40 bp apart
    gaps = rng.integers(2, 41, size=(n_loci, k - 1))
    starts = (np.arange(n_loci, dtype=np.int64) + 1) * 10_000
    pos = np.concatenate([starts[:, None], starts[:, None] + np.cumsum(gaps, axis=1)], axis=1)
    loci = pd.DataFrame(
        {
            "locus_id": [f"L{j + 1}" for j in range(n_loci)],
            "chrom": chrom,
            "start": pos[:, 0],
            "end": pos[:, -1],
            "n_cpgs": k,
        }
    )
    calls, mix = [], []
    for r, rid in enumerate(region_ids):
        weights = np.concatenate(([1 - pur[r]], pur[r] * prev.loc[order, rid].to_numpy()))
        weights = weights / weights.sum()
        n_reads = rng.poisson(depth, size=n_loci)
        locus_of = np.repeat(np.arange(n_loci), n_reads)
        src = rng.choice(len(pops), size=locus_of.size, p=weights)
        bits = pat[src, locus_of]
        meth = ((bits[:, None] >> (k - 1 - np.arange(k))[None, :]) & 1).astype(bool)
        meth ^= rng.random(meth.shape) < drift
        n = locus_of.size
        calls.append(
            pd.DataFrame(
                {
                    "region_id": rid,
                    "read_id": np.repeat([f"{rid}_r{i}" for i in range(n)], k),
                    "chrom": chrom,
                    "position": pos[locus_of].ravel(),
                    "methylated": meth.ravel(),
                }
            )
        )
        # expected mixture before drift: population weights summed per epiallele
        m = pd.DataFrame(
            {
                "locus_id": np.tile(loci["locus_id"].to_numpy(), len(pops)),
                "code": pat.ravel(),
                "fraction": np.repeat(weights, n_loci),
            }
        )
        m = m[m["fraction"] > 0].groupby(["locus_id", "code"], sort=False, as_index=False).sum()
        m.insert(0, "region_id", rid)
        mix.append(m)
    fmt = f"0{k}b"
    epi = pd.DataFrame(
        {
            "population": np.repeat(pops, n_loci),
            "locus_id": np.tile(loci["locus_id"].to_numpy(), len(pops)),
            "pattern": [format(int(v), fmt) for v in pat.ravel()],
        }
    )
    mixtures = pd.concat(mix, ignore_index=True)
    mixtures["pattern"] = [format(int(v), fmt) for v in mixtures.pop("code")]
    mixtures = mixtures[["region_id", "locus_id", "pattern", "fraction"]]
    return MethylationSimulation(
        calls=pd.concat(calls, ignore_index=True),
        loci=loci,
        epialleles=epi,
        mixtures=mixtures,
        drift=float(drift),
    )


def _purity(purity: float | pd.DataFrame | None, region_ids: list[str]) -> np.ndarray:
    if purity is None:
        return np.ones(len(region_ids))
    if isinstance(purity, pd.DataFrame):
        m = dict(zip(purity["sample_id"].astype(str), purity["purity"].astype(float), strict=True))
        missing = [r for r in region_ids if r not in m]
        if missing:
            raise InputError(
                f"no purity for region(s) {', '.join(missing)}", source="purity",
                fix="one purity per region",
            )  # fmt: skip
        vals = np.array([m[r] for r in region_ids])
    else:
        vals = np.full(len(region_ids), float(purity))
    if ((vals <= 0) | (vals > 1)).any():
        raise InputError(
            f"purity {vals[(vals <= 0) | (vals > 1)][0]:g}", source="purity",
            fix="purity is a fraction in (0, 1] (not a percentage)",
        )  # fmt: skip
    return vals


def expected_epipolymorphism(mixtures: pd.DataFrame) -> pd.DataFrame:
    """Truth: ``region_id, locus_id, epipolymorphism`` = 1 - sum of squared epiallele
    fractions (Landan et al. 2012) of each region's expected mixture (before drift).

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"region_id": "R1", "locus_id": "L1", "pattern": ["0000", "1111"],
    ...                   "fraction": [0.5, 0.5]})
    >>> expected_epipolymorphism(m)["epipolymorphism"].tolist()
    [0.5]
    """
    sq = mixtures.assign(sq=mixtures["fraction"] ** 2)
    out = sq.groupby(["region_id", "locus_id"], sort=False, as_index=False)["sq"].sum()
    out["epipolymorphism"] = 1.0 - out.pop("sq")
    return out
