"""Moran's I and Geary's C against straightforward double-loop implementations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ithkit import InputError
from ithkit.spatial import (
    gearys_c,
    local_gearys_c,
    local_morans_i,
    morans_i,
    neighbour_graph,
)


def _dense_weights(n: int, seed: int, row_standardise: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, size=(n, 2))
    conn, _ = neighbour_graph(xy, n_neighbors=5)
    w = conn.toarray().astype(float)
    if row_standardise:
        w = w / w.sum(axis=1, keepdims=True)
    values = xy[:, 0] / 10 + rng.normal(0, 1, n)  # a gradient: positive autocorrelation
    return w, values


def _moran_loop(x: np.ndarray, w: np.ndarray) -> float:
    n = len(x)
    mean = sum(x) / n
    num = 0.0
    s0 = 0.0
    for i in range(n):
        for j in range(n):
            num += w[i, j] * (x[i] - mean) * (x[j] - mean)
            s0 += w[i, j]
    den = sum((v - mean) ** 2 for v in x)
    return n / s0 * num / den


def _geary_loop(x: np.ndarray, w: np.ndarray) -> float:
    n = len(x)
    mean = sum(x) / n
    num = 0.0
    s0 = 0.0
    for i in range(n):
        for j in range(n):
            num += w[i, j] * (x[i] - x[j]) ** 2
            s0 += w[i, j]
    den = sum((v - mean) ** 2 for v in x)
    return (n - 1) * num / (2 * s0 * den)


@pytest.mark.parametrize("row_standardise", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_global_statistics_equal_reference(row_standardise: bool, seed: int) -> None:
    w, x = _dense_weights(60, seed, row_standardise)
    ours_i = morans_i(x, sp.csr_matrix(w), row_standardise=False)
    ours_c = gearys_c(x, w, row_standardise=False)
    assert ours_i.statistic == pytest.approx(_moran_loop(x, w), rel=1e-10)
    assert ours_c.statistic == pytest.approx(_geary_loop(x, w), rel=1e-10)
    assert ours_i.statistic > 0.3 and ours_c.statistic < 0.8  # the planted gradient
    assert ours_i.expected == pytest.approx(-1 / 59)
    assert ours_i.zscore > 3


def test_row_standardisation_is_applied() -> None:
    w, x = _dense_weights(40, 3, row_standardise=False)
    wr = w / w.sum(axis=1, keepdims=True)
    assert morans_i(x, w).statistic == pytest.approx(_moran_loop(x, wr), rel=1e-10)


def test_local_statistics_equal_reference() -> None:
    w, x = _dense_weights(30, 4, row_standardise=True)
    z = x - x.mean()
    m2 = (z**2).sum() / len(x)
    lisa = [z[i] / m2 * sum(w[i, j] * z[j] for j in range(len(x))) for i in range(len(x))]
    lgc = [sum(w[i, j] * (z[i] - z[j]) ** 2 for j in range(len(x))) / m2
           for i in range(len(x))]  # fmt: skip
    assert np.allclose(local_morans_i(x, w, row_standardise=False), lisa)
    assert np.allclose(local_gearys_c(x, w, row_standardise=False), lgc)
    # Anselin (1995): the local statistics sum to the global one (times S0 / n for I)
    assert np.mean(lisa) == pytest.approx(morans_i(x, w, row_standardise=False).statistic)


def test_path_graph_textbook_value() -> None:
    # 4 cells in a line, values 1..4, binary weights: I = 4/6 * 2.5/5 = 1/3, C = 3*3/(2*6*5)
    w = np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]])
    x = np.array([1.0, 2, 3, 4])
    assert morans_i(x, w, row_standardise=False).statistic == pytest.approx(1 / 3)
    assert gearys_c(x, w, row_standardise=False).statistic == pytest.approx(0.3)


@pytest.mark.parametrize("values", [np.ones(10), np.array([1.0, np.nan, 2.0, 3.0])])
def test_bad_values(values: np.ndarray) -> None:
    with pytest.raises(InputError):
        morans_i(values, np.ones((len(values), len(values))))
