"""Single-cell DNA: a mutation tree under false-positive / false-negative / dropout errors.

The model is SCITE's (Jahn, Kuipers & Beerenwinkel 2016): mutations are the nodes of a rooted
tree (the root is the normal genome), each cell attaches to one node and carries the mutations on
the path to it; an observed genotype is wrong with probability ``fp`` (0 read as 1) or ``fn``
(1 read as 0, allelic dropout included); missing entries do not count. The tree is searched by
Metropolis-Hastings over prune-and-reattach and label-swap moves (several seeded chains), each
cell attached to its most likely node.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ithkit._errors import InputError


@dataclass(frozen=True)
class MutationTree:
    """A mutation tree with cell attachments.

    Attributes
    ----------
    tree
        ``mutation_id, parent`` (parent empty for mutations directly below the root).
    cells
        ``cell_id, node, clone`` (node = the last mutation gained, ``root`` if none).
    genotypes
        Cells x mutations, 0/1: the genotypes the tree implies.
    clones
        ``clone, node, mutations, n_cells, fraction`` for nodes with attached cells.
    log_likelihood
        Log-likelihood of the data under the tree and attachments.
    """

    tree: pd.DataFrame
    cells: pd.DataFrame
    genotypes: pd.DataFrame
    clones: pd.DataFrame
    log_likelihood: float


def _genotype_matrix(parent: np.ndarray) -> np.ndarray:
    """(m + 1) x m: row j = mutations present at node j (row m = the root)."""
    m = len(parent)
    g = np.zeros((m + 1, m), dtype=np.float64)
    for j in range(m):
        node = j
        while node != -1:
            g[j, node] = 1.0
            node = parent[node]
    return g


def _descendants(parent: np.ndarray, v: int) -> set[int]:
    """Node ``v`` and every node below it (parent < 0 marks the root)."""
    from ithkit._trees import descendants

    ids = list(range(len(parent)))
    below = descendants(ids, [None if p < 0 else int(p) for p in parent])
    return {int(n) for n in below[str(v)]}


def _score(b: np.ndarray, const: np.ndarray, parent: np.ndarray) -> tuple[float, np.ndarray]:
    ll = const[:, None] + b @ _genotype_matrix(parent).T
    best = ll.argmax(axis=1)
    return float(ll[np.arange(len(ll)), best].sum()), best


def mutation_tree(
    matrix: pd.DataFrame,
    *,
    fp: float = 0.01,
    fn: float = 0.2,
    n_iter: int = 5000,
    n_chains: int = 3,
    seed: int | None = 0,
    source: str = "matrix",
) -> MutationTree:
    """Infer a mutation tree, cell genotypes and clone sizes from a cells x mutations matrix.

    Parameters
    ----------
    matrix
        Cells (index) x mutations (columns): 1 mutated, 0 not, NaN (or 3, SCITE's code) missing.
    fp, fn
        False-positive and false-negative (allelic dropout included) rates, in (0, 0.5).
    n_iter
        Metropolis-Hastings steps per chain.
    n_chains
        Independent chains (seeded from ``seed``); the best tree wins.
    seed
        Random seed.
    source
        Name used in error messages.

    Returns
    -------
    MutationTree

    Examples
    --------
    >>> sim = simulate_scdna(60, 5, seed=1)
    >>> t = mutation_tree(sim.observed, n_iter=500, seed=0)
    >>> float((t.genotypes.to_numpy() == sim.genotypes.to_numpy()).mean()) > 0.9
    True
    """
    if not isinstance(matrix, pd.DataFrame) or matrix.empty:
        raise InputError("expected a non-empty cells x mutations table", source=source)
    for name, rate in (("fp", fp), ("fn", fn)):
        if not 0 < rate < 0.5:
            raise InputError(f"{name} is {rate}, outside (0, 0.5)", source=name,
                             fix="error rates are probabilities below 0.5")  # fmt: skip
    try:
        values = matrix.apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    except (ValueError, TypeError):
        raise InputError(
            "non-numeric genotype", source=source, fix="use 0, 1 and NaN (or 3) for missing"
        ) from None
    values[values == 3] = np.nan
    bad = ~np.isnan(values) & ~np.isin(values, (0.0, 1.0))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise InputError(
            f"genotype {values[r, c]:g} is not 0, 1 or missing",
            source=source,
            row=int(r) + 2,
            column=str(matrix.columns[c]),
            fix="use 0, 1 and NaN (or 3) for missing",
        )
    d1 = (values == 1).astype(float)
    d0 = (values == 0).astype(float)
    l11, l01, l10, l00 = np.log(1 - fn), np.log(fp), np.log(fn), np.log(1 - fp)
    b = d1 * (l11 - l01) + d0 * (l10 - l00)
    const = d1.sum(axis=1) * l01 + d0.sum(axis=1) * l00
    m = values.shape[1]
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n_chains)]
    best_parent = np.full(m, -1)
    best_ll, _ = _score(b, const, best_parent)
    freq = np.nan_to_num(np.nanmean(values, axis=0))
    for rng in rngs:
        # start: a chain ordered by mutation frequency (frequent mutations higher up)
        order = np.argsort(-freq + rng.normal(0, 0.01, m))
        parent = np.full(m, -1)
        for a, c in itertools.pairwise(order):
            parent[c] = a
        ll, _ = _score(b, const, parent)
        for _ in range(n_iter):
            prop = parent.copy()
            if m > 1 and rng.random() < 0.3:
                i, j = rng.choice(m, size=2, replace=False)
                # swap labels: i takes j's place and vice versa
                pi, pj = prop[i], prop[j]
                swapped = prop.copy()
                swapped[prop == i] = -2
                swapped[prop == j] = i
                swapped[swapped == -2] = j
                swapped[i] = j if pj == i else pj
                swapped[j] = i if pi == j else pi
                prop = swapped
            else:
                v = int(rng.integers(m))
                desc = _descendants(prop, v)
                choices = [-1, *[k for k in range(m) if k not in desc]]
                prop[v] = choices[int(rng.integers(len(choices)))]
            new_ll, _ = _score(b, const, prop)
            if new_ll >= ll or rng.random() < np.exp(new_ll - ll):
                parent, ll = prop, new_ll
                if ll > best_ll:
                    best_ll, best_parent = ll, parent.copy()
    best_ll, attach = _score(b, const, best_parent)
    g = _genotype_matrix(best_parent)
    names = [str(c) for c in matrix.columns]
    node_names = [*names, "root"]
    attach_idx = np.where(attach == m, m, attach)
    tree = pd.DataFrame(
        {"mutation_id": names, "parent": [None if p == -1 else names[p] for p in best_parent]}
    )
    node = [node_names[a] for a in attach_idx]
    counts = pd.Series(node).value_counts()
    clone_nodes = sorted(counts.index, key=lambda n: (-counts[n], n))
    clone_of = {n: f"K{i + 1}" for i, n in enumerate(clone_nodes)}
    cells = pd.DataFrame(
        {"cell_id": matrix.index.astype(str), "node": node, "clone": [clone_of[n] for n in node]}
    )
    genotypes = pd.DataFrame(
        g[attach_idx].astype(np.int8), index=matrix.index.astype(str), columns=names
    )
    clones = pd.DataFrame(
        [
            (
                clone_of[n],
                n,
                ",".join(names[k] for k in np.flatnonzero(g[node_names.index(n)])),
                int(counts[n]),
                float(counts[n] / len(node)),
            )
            for n in clone_nodes
        ],
        columns=["clone", "node", "mutations", "n_cells", "fraction"],
    )
    return MutationTree(tree, cells, genotypes, clones, best_ll)


@dataclass(frozen=True)
class ScdnaSimulation:
    """A simulated single-cell DNA experiment: truth and observations."""

    parent: np.ndarray
    genotypes: pd.DataFrame
    observed: pd.DataFrame


def simulate_scdna(
    n_cells: int = 200,
    n_mutations: int = 10,
    *,
    fp: float = 0.01,
    fn: float = 0.15,
    missing: float = 0.1,
    seed: int | None = 0,
) -> ScdnaSimulation:
    """Simulate a random mutation tree, cells attached to its nodes and noisy genotypes.

    Examples
    --------
    >>> s = simulate_scdna(50, 6, seed=0)
    >>> s.observed.shape, int(s.genotypes.to_numpy().max())
    ((50, 6), 1)
    """
    rng = np.random.default_rng(seed)
    parent = np.array([-1] + [int(rng.integers(-1, i)) for i in range(1, n_mutations)])
    g = _genotype_matrix(parent)
    attach = rng.integers(0, n_mutations + 1, size=n_cells)
    truth = g[attach]
    flip_on = (truth == 0) & (rng.random(truth.shape) < fp)
    flip_off = (truth == 1) & (rng.random(truth.shape) < fn)
    obs = truth.copy()
    obs[flip_on] = 1
    obs[flip_off] = 0
    obs[rng.random(obs.shape) < missing] = np.nan
    cells = [f"cell{i}" for i in range(n_cells)]
    muts = [f"m{j}" for j in range(n_mutations)]
    return ScdnaSimulation(
        parent,
        pd.DataFrame(truth.astype(np.int8), index=cells, columns=muts),
        pd.DataFrame(obs, index=cells, columns=muts),
    )


def read_genotypes(path: str | Path) -> pd.DataFrame:
    """Read a cells x mutations genotype TSV/CSV (first column: cell ids; 0, 1, NA or 3).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d, "g.tsv"); _ = p.write_text("cell_id\\tm1\\nc1\\t1\\nc2\\tNA\\n")
    ...     read_genotypes(p).shape
    (2, 1)
    """
    from ithkit.io import read_text

    p = Path(path)
    sep = "," if p.suffix.lower() == ".csv" else "\t"
    import io as _io

    try:
        frame = pd.read_csv(_io.StringIO(read_text(p)), sep=sep, index_col=0)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(
            f"not a genotype table ({exc})",
            source=p,
            fix="first column cell ids, then one column per mutation",
        ) from None
    if frame.empty or frame.shape[1] == 0:
        raise InputError("no cells or no mutations", source=p,
                         fix="first column cell ids, then one column per mutation")  # fmt: skip
    frame.index = frame.index.astype(str)
    frame.columns = frame.columns.astype(str)
    return frame


def write_tree(tree: MutationTree, out_dir: str | Path) -> list[Path]:
    """Write ``tree.tsv``, ``cells.tsv``, ``clones.tsv`` and ``genotypes.tsv`` into ``out_dir``."""
    from ithkit.io import write_table

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [
        write_table(tree.tree, out / "tree.tsv"),
        write_table(tree.cells, out / "cells.tsv"),
        write_table(tree.clones, out / "clones.tsv"),
        write_table(tree.genotypes.reset_index(names="cell_id"), out / "genotypes.tsv"),
    ]
