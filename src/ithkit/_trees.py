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
