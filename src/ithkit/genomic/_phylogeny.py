"""Clone trees consistent with clone CCFs: exact enumeration, ranking, edge support."""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ithkit._errors import InputError
from ithkit._trees import newick


@dataclass(frozen=True)
class TreeResult:
    """Trees of clones consistent with the sum rule in every sample.

    Attributes
    ----------
    tree
        The best tree: ``clone_id, parent`` (parent missing for the root).
    n_consistent
        Number of trees consistent with the CCFs at ``tolerance`` (a lower bound when
        ``exhaustive`` is False).
    exhaustive
        True when every consistent tree was enumerated.
    tolerance
        Sum-rule tolerance used (CCF units); raised from the requested one when no tree fits.
    shortlist
        Up to ``n_best`` trees, best first: ``rank, clone_id, parent, violation, distance``.
    edges
        ``parent, clone_id, support`` — the fraction of consistent trees with that edge;
        support 1 marks edges every consistent tree shares.
    """

    tree: pd.DataFrame
    n_consistent: int
    exhaustive: bool
    tolerance: float
    shortlist: pd.DataFrame
    edges: pd.DataFrame
    extra: dict[str, Any] = field(default_factory=dict)

    def newick(self) -> str:
        """The best tree in Newick format (clone ids as node names)."""
        return tree_to_newick(self.tree)

    def to_json(self) -> str:
        """``{"nodes": [{"clone_id", "parent"}], "n_consistent_trees": k, ...}``."""
        nodes = [
            {"clone_id": str(c), "parent": None if pd.isna(p) else str(p)}
            for c, p in zip(self.tree["clone_id"], self.tree["parent"], strict=True)
        ]
        shared = self.edges[self.edges["support"] >= 1.0 - 1e-12]
        return json.dumps(
            {
                "nodes": nodes,
                "n_consistent_trees": int(self.n_consistent),
                "exhaustive": bool(self.exhaustive),
                "tolerance": float(self.tolerance),
                "edges": [
                    {"parent": str(p), "clone_id": str(c), "support": round(float(s), 4)}
                    for p, c, s in self.edges[["parent", "clone_id", "support"]].itertuples(
                        index=False
                    )
                ],
                "shared_edges": [
                    [str(p), str(c)] for p, c in shared[["parent", "clone_id"]].values
                ],
            },
            indent=2,
        )


def tree_to_newick(tree: pd.DataFrame) -> str:
    """Newick string of a ``clone_id, parent`` table, children in table order."""
    return newick(tree["clone_id"], tree["parent"])


def _wide(clones: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    wide = clones.pivot(index="clone_id", columns="sample_id", values="ccf")
    return [str(c) for c in wide.index], wide.to_numpy(dtype=float)


def infer_tree(
    clones: pd.DataFrame,
    *,
    tolerance: float = 0.05,
    max_exact_clones: int = 12,
    max_trees: int = 100_000,
    n_best: int = 10,
    beam_width: int = 500,
) -> TreeResult:
    """Find the clone trees consistent with the clone CCFs in every sample.

    A tree is consistent when, in every sample, a clone's CCF is at least the sum of its
    children's CCFs minus ``tolerance`` (the sum rule / pigeonhole principle), which also makes
    every parent at least as frequent as each child. Clones are placed in order of decreasing
    mean CCF, each under an earlier clone with room for it, by depth-first search: every
    consistent tree is enumerated for up to ``max_exact_clones`` clones (and ``max_trees``
    trees), a beam search is used above that. If no tree fits, the tolerance is doubled until
    one does (the tolerance used is reported).

    Trees are ranked by their total sum-rule violation (CCF mass children need beyond their
    parent's, summed over samples), then by the summed distance between each clone's CCF
    profile and its parent's (the most parsimonious explanation first). Edge support is the
    fraction of consistent trees containing the edge.

    Parameters
    ----------
    clones
        ``clone_id, sample_id, ccf`` (as returned by :func:`cluster_mutations`).
    tolerance
        Allowed excess of children's summed CCF over the parent's (CCF units), per sample.
    max_exact_clones, max_trees
        Limits of the exact enumeration.
    n_best
        Trees kept in the shortlist.
    beam_width
        Partial trees kept per step of the beam search.

    Examples
    --------
    >>> import pandas as pd
    >>> clones = pd.DataFrame({"clone_id": ["C1", "C2", "C3"], "sample_id": ["R1"] * 3,
    ...                        "ccf": [1.0, 0.6, 0.3]})
    >>> result = infer_tree(clones)
    >>> result.n_consistent, result.newick()
    (2, '((C3)C2)C1;')
    """
    if clones.empty:
        raise InputError("no clones", source="clones", fix="cluster the mutations first")
    ids, ccf = _wide(clones)
    order = np.lexsort((np.arange(len(ids)), -ccf.mean(axis=1)))
    ids = [ids[i] for i in order]
    ccf = ccf[order]
    tol = float(tolerance)
    exact = len(ids) <= max_exact_clones
    while True:
        if exact:
            trees, complete = _enumerate(ccf, tol, max_trees)
        else:
            trees, complete = _beam(ccf, tol, beam_width), False
        if trees or tol > 1.0:
            break
        tol *= 2
    if not trees:  # pragma: no cover - tol > 1 admits every tree
        raise InputError("no consistent tree", source="clones", fix="check the clone CCFs")
    scored = sorted((_score(ccf, p), p) for p in trees)
    edge_counts: dict[tuple[int, int], int] = {}
    for parents in trees:
        for child, parent in enumerate(parents):
            if parent >= 0:
                edge_counts[(parent, child)] = edge_counts.get((parent, child), 0) + 1
    best = scored[0][1]
    tree = pd.DataFrame(
        {
            "clone_id": pd.array(ids, dtype="string"),
            "parent": pd.array([ids[p] if p >= 0 else None for p in best], dtype="string"),
        }
    )
    rows = []
    for rank, ((violation, distance), parents) in enumerate(scored[:n_best], start=1):
        for child, parent in enumerate(parents):
            rows.append(
                (rank, ids[child], ids[parent] if parent >= 0 else None, violation, distance)
            )
    shortlist = pd.DataFrame(rows, columns=["rank", "clone_id", "parent", "violation", "distance"])
    edges = pd.DataFrame(
        [(ids[p], ids[c], n / len(trees)) for (p, c), n in edge_counts.items()],
        columns=["parent", "clone_id", "support"],
    ).sort_values(["support", "parent", "clone_id"], ascending=[False, True, True])
    return TreeResult(
        tree=tree,
        n_consistent=len(trees),
        exhaustive=complete,
        tolerance=tol,
        shortlist=shortlist,
        edges=edges.reset_index(drop=True),
    )


def _enumerate(ccf: np.ndarray, tol: float, max_trees: int) -> tuple[list[list[int]], bool]:
    """All parent vectors (parent index < child index) obeying the sum rule."""
    k, _ = ccf.shape
    room = ccf.copy()  # CCF each clone still has for further children
    parents = [-1] * k
    found: list[list[int]] = []
    complete = True

    def place(j: int) -> bool:
        nonlocal complete
        if j == k:
            found.append(parents.copy())
            if len(found) >= max_trees:
                complete = False
                return False
            return True
        for i in range(j):
            if np.all(room[i] + tol >= ccf[j]):
                parents[j] = i
                room[i] -= ccf[j]
                go_on = place(j + 1)
                room[i] += ccf[j]
                if not go_on:
                    return False
        parents[j] = -1
        return True

    place(1)
    return found, complete


def _beam(ccf: np.ndarray, tol: float, width: int) -> list[list[int]]:
    """Beam search over parent choices, keeping the partial trees of least violation."""
    k, _ = ccf.shape
    beam: list[tuple[float, list[int], np.ndarray]] = [(0.0, [-1], ccf.copy())]
    for j in range(1, k):
        candidates: list[tuple[float, list[int], np.ndarray]] = []
        for cost, parents, room in beam:
            for i in range(j):
                excess = np.maximum(ccf[j] - room[i], 0.0)
                if np.all(excess <= tol):
                    new_room = room.copy()
                    new_room[i] -= ccf[j]
                    step = float(np.abs(ccf[i] - ccf[j]).sum()) * 1e-3 + float(excess.sum())
                    candidates.append((cost + step, [*parents, i], new_room))
        beam = heapq.nsmallest(width, candidates, key=lambda c: c[0])
        if not beam:
            return []
    return [parents for _, parents, _ in beam]


def _score(ccf: np.ndarray, parents: list[int] | tuple[int, ...]) -> tuple[float, float]:
    k = len(parents)
    load = np.zeros_like(ccf)
    distance = 0.0
    for child in range(k):
        parent = parents[child]
        if parent >= 0:
            load[parent] += ccf[child]
            distance += float(np.abs(ccf[parent] - ccf[child]).sum())
    violation = float(np.maximum(load - ccf, 0.0).sum())
    return round(violation, 9), round(distance, 9)


def fish_table(tree: pd.DataFrame, clones: pd.DataFrame) -> pd.DataFrame:
    """Clone prevalences for fish (Muller) plots.

    The prevalence of a clone in a sample is its CCF minus its children's CCFs (clipped at 0):
    the fraction of cancer cells whose most derived clone it is.

    Returns
    -------
    pandas.DataFrame
        ``clone_id, parent, sample_id, ccf, fraction`` (fractions 0..1).
    """
    ccf = clones.pivot(index="clone_id", columns="sample_id", values="ccf")
    rows = []
    parent_of = dict(zip(tree["clone_id"].astype(str), tree["parent"], strict=True))
    for cid, parent in parent_of.items():
        kids = [c for c, p in parent_of.items() if not pd.isna(p) and str(p) == cid]
        own = ccf.loc[cid] - (ccf.loc[kids].sum(axis=0) if kids else 0.0)
        for sample, value in own.clip(lower=0.0).items():
            rows.append(
                {
                    "clone_id": cid,
                    "parent": None if pd.isna(parent) else str(parent),
                    "sample_id": str(sample),
                    "ccf": float(ccf.loc[cid, sample]),
                    "fraction": float(value),
                }
            )
    return pd.DataFrame(rows).astype({"clone_id": "string", "parent": "string",
                                      "sample_id": "string"})  # fmt: skip
