"""Neighbour joining, Newick output and Robinson-Foulds distances for region trees."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ithkit._errors import InputError


@dataclass(frozen=True)
class RegionTree:
    """An unrooted tree with regions as leaves, stored rooted at its last join.

    Attributes
    ----------
    edges
        ``parent, child, length`` (internal nodes are named ``n1, n2, ...``; the root is the
        parent that is nobody's child).
    leaves
        Leaf names in input order.
    """

    edges: pd.DataFrame
    leaves: tuple[str, ...]

    @property
    def root(self) -> str:
        parents = set(self.edges["parent"])
        roots = parents - set(self.edges["child"])
        return sorted(roots)[0] if roots else self.leaves[0]

    def children(self) -> dict[str, list[tuple[str, float]]]:
        out: dict[str, list[tuple[str, float]]] = {}
        for p, c, length in self.edges[["parent", "child", "length"]].itertuples(index=False):
            out.setdefault(str(p), []).append((str(c), float(length)))
        return out

    def newick(self) -> str:
        """Newick with branch lengths, e.g. ``(R1:0.1,R2:0.1,(R3:0.05,R4:0.2)n1:0.1);``."""
        kids = self.children()

        def node(name: str) -> str:
            sub = kids.get(name, [])
            inner = ",".join(f"{node(c)}:{length:.6g}" for c, length in sub)
            label = name if name in self.leaves else ""
            return f"({inner}){label}" if sub else label

        if len(self.leaves) == 1:
            return f"{self.leaves[0]};"
        return node(self.root) + ";"

    def splits(self) -> set[frozenset[str]]:
        """Non-trivial bipartitions, each given by the side without the first leaf (sorted)."""
        kids = self.children()
        leaves = set(self.leaves)
        ref = sorted(leaves)[0]
        below: dict[str, frozenset[str]] = {}

        def collect(name: str) -> frozenset[str]:
            if name in leaves and name not in kids:
                below[name] = frozenset([name])
                return below[name]
            acc: frozenset[str] = frozenset()
            for c, _ in kids.get(name, []):
                acc = acc | collect(c)
            below[name] = acc
            return acc

        collect(self.root)
        out: set[frozenset[str]] = set()
        for side in below.values():
            if 2 <= len(side) <= len(leaves) - 2:
                out.add(side if ref not in side else frozenset(leaves - side))
        return out


def neighbor_joining(distance: np.ndarray, labels: list[str]) -> RegionTree:
    """Neighbour-joining tree (Saitou & Nei 1987, Mol Biol Evol 4:406; the Q-criterion of
    Studier & Keppler 1988) of a symmetric distance matrix; negative branch lengths are set
    to 0. Ties are broken by the first pair in input order.

    Parameters
    ----------
    distance
        Symmetric (n x n) matrix, zero diagonal, no missing values.
    labels
        n leaf names.

    Returns
    -------
    RegionTree
        Unrooted tree stored rooted at the last join.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([[0, 5, 9, 9, 8], [5, 0, 10, 10, 9], [9, 10, 0, 8, 7],
    ...               [9, 10, 8, 0, 3], [8, 9, 7, 3, 0]], float)
    >>> neighbor_joining(d, ["a", "b", "c", "d", "e"]).newick()
    '(d:2,e:1,(c:4,(a:2,b:3):3):2);'
    """
    d = np.asarray(distance, dtype=float)
    n = len(labels)
    if d.shape != (n, n):
        raise InputError(f"distance matrix is {d.shape} for {n} labels", source="distance")
    if np.isnan(d).any():
        i, j = (int(x) for x in np.argwhere(np.isnan(d))[0])
        raise InputError(
            f"no distance between {labels[i]} and {labels[j]}",
            source="distance",
            fix="regions must share CpGs/probes to be compared",
        )
    if not np.allclose(d, d.T):
        raise InputError("distance matrix is not symmetric", source="distance")
    edges: list[tuple[str, str, float]] = []
    if n == 1:
        return RegionTree(pd.DataFrame(columns=["parent", "child", "length"]), (labels[0],))
    if n == 2:
        # two leaves: a root between them
        half = d[0, 1] / 2
        edges = [("n1", labels[0], half), ("n1", labels[1], half)]
        return RegionTree(pd.DataFrame(edges, columns=["parent", "child", "length"]), tuple(labels))
    names = list(labels)
    dm = d.copy()
    next_id = 1
    while len(names) > 3:
        m = len(names)
        r = dm.sum(axis=1)
        q = (m - 2) * dm - r[:, None] - r[None, :]
        np.fill_diagonal(q, np.inf)
        i, j = (int(x) for x in np.unravel_index(np.argmin(q), q.shape))
        if i > j:
            i, j = j, i
        li = 0.5 * dm[i, j] + (r[i] - r[j]) / (2 * (m - 2))
        lj = dm[i, j] - li
        u = f"n{next_id}"
        next_id += 1
        edges += [(u, names[i], max(li, 0.0)), (u, names[j], max(lj, 0.0))]
        du = 0.5 * (dm[i] + dm[j] - dm[i, j])
        keep = [k for k in range(m) if k not in (i, j)]
        new = np.zeros((m - 1, m - 1))
        new[:-1, :-1] = dm[np.ix_(keep, keep)]
        new[-1, :-1] = new[:-1, -1] = du[keep]
        dm = new
        names = [names[k] for k in keep] + [u]
    a, b, c = names
    la = 0.5 * (dm[0, 1] + dm[0, 2] - dm[1, 2])
    lb = 0.5 * (dm[0, 1] + dm[1, 2] - dm[0, 2])
    lc = 0.5 * (dm[0, 2] + dm[1, 2] - dm[0, 1])
    root = f"n{next_id}"
    edges += [(root, a, max(la, 0.0)), (root, b, max(lb, 0.0)), (root, c, max(lc, 0.0))]
    return RegionTree(pd.DataFrame(edges, columns=["parent", "child", "length"]), tuple(labels))


def robinson_foulds(a: RegionTree, b: RegionTree) -> tuple[int, int]:
    """Robinson-Foulds distance (Robinson & Foulds 1981, Math Biosci 53:131) between two
    unrooted trees on the same leaves: the number of bipartitions found in one tree only, and
    its maximum ``2 (n - 3)`` for n leaves.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([[0, 1, 4, 4], [1, 0, 4, 4], [4, 4, 0, 1], [4, 4, 1, 0]], float)
    >>> t1 = neighbor_joining(d, ["A", "B", "C", "D"])
    >>> t2 = neighbor_joining(d, ["A", "C", "B", "D"])
    >>> robinson_foulds(t1, t1), robinson_foulds(t1, t2)
    ((0, 2), (2, 2))
    """
    if set(a.leaves) != set(b.leaves):
        raise InputError(
            f"trees have different leaves ({sorted(a.leaves)} vs {sorted(b.leaves)})",
            source="trees",
            fix="compare trees of the same regions",
        )
    return len(a.splits() ^ b.splits()), max(0, 2 * (len(a.leaves) - 3))
