"""Clone trees given as (clone_id, parent) pairs: children, traversal order, Newick."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def children_of(
    clone_ids: Iterable[object], parents: Iterable[object]
) -> tuple[list[str], dict[str, list[str]]]:
    """Roots and the children of each clone (in input order); a missing parent marks a root.

    Examples
    --------
    >>> children_of(["C1", "C2", "C3"], [None, "C1", "C1"])
    (['C1'], {'C1': ['C2', 'C3']})
    """
    roots: list[str] = []
    children: dict[str, list[str]] = {}
    for cid, parent in zip(clone_ids, parents, strict=True):
        if parent is None or pd.isna(parent):
            roots.append(str(cid))
        else:
            children.setdefault(str(parent), []).append(str(cid))
    return roots, children


def newick(clone_ids: Iterable[object], parents: Iterable[object]) -> str:
    """Newick string with clone ids as node names, e.g. ``((C3)C2,C4)C1;``.

    Examples
    --------
    >>> newick(["C1", "C2", "C3", "C4"], [None, "C1", "C2", "C1"])
    '((C3)C2,C4)C1;'
    """
    roots, children = children_of(clone_ids, parents)

    def node(c: str) -> str:
        kids = children.get(c, [])
        return (f"({','.join(node(k) for k in kids)})" if kids else "") + c

    if len(roots) == 1:
        return node(roots[0]) + ";"
    return "(" + ",".join(node(r) for r in roots) + ");"


def preorder(clone_ids: Iterable[object], parents: Iterable[object]) -> list[str]:
    """Clone ids parent first, children in input order.

    Examples
    --------
    >>> preorder(["C2", "C1", "C3"], ["C1", None, "C2"])
    ['C1', 'C2', 'C3']
    """
    roots, children = children_of(clone_ids, parents)
    order: list[str] = []
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(reversed(children.get(node, [])))
    return order


def descendants(clone_ids: Iterable[object], parents: Iterable[object]) -> dict[str, set[str]]:
    """Each clone and every clone below it.

    Examples
    --------
    >>> d = descendants(["C1", "C2", "C3", "C4"], [None, "C1", "C2", "C1"])
    >>> sorted(d["C2"]), sorted(d["C1"])
    (['C2', 'C3'], ['C1', 'C2', 'C3', 'C4'])
    """
    ids, pars = list(clone_ids), list(parents)
    out = {str(c): {str(c)} for c in ids}
    _, children = children_of(ids, pars)
    for node in reversed(preorder(ids, pars)):  # children before their parents
        for kid in children.get(node, []):
            out[node] |= out[kid]
    return out


def layout(
    clone_ids: Iterable[object], parents: Iterable[object]
) -> dict[str, tuple[float, float]]:
    """Positions for drawing a tree: x = depth, y = leaf order, parents centred over children.

    Examples
    --------
    >>> layout(["C1", "C2", "C3"], [None, "C1", "C1"])
    {'C2': (1.0, 0.0), 'C3': (1.0, 1.0), 'C1': (0.0, 0.5)}
    """
    roots, children = children_of(clone_ids, parents)
    pos: dict[str, tuple[float, float]] = {}
    leaf = [0.0]

    def place(node: str, depth: int) -> float:
        kids = children.get(node, [])
        if kids:
            y = sum(place(k, depth + 1) for k in kids) / len(kids)
        else:
            y = leaf[0]
            leaf[0] += 1
        pos[node] = (float(depth), y)
        return y

    for root in roots:
        place(root, 0)
    return pos
