"""Dose-response tables with known truth: a parent line and two derived lines whose drug
sensitivities follow a growth-rate model, for tests, docs and the demo."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_TRUTH", "EXAMPLE_LANDSCAPES", "synthetic_responses", "write_example"]

DEFAULT_TRUTH: dict[str, dict[str, object]] = {
    # growth_per_h: untreated net growth rate; kill: drug -> (max kill per h, EC50 µM, Hill)
    "P": {"growth_per_h": 0.025, "kill": {"A": (0.05, 1.0, 1.5), "B": (0.05, 1.0, 1.5)}},
    "RA": {
        "growth_per_h": 0.022,
        "parent": "P",
        "selected_with": "A",
        "kill": {"A": (0.05, 25.0, 1.5), "B": (0.05, 0.15, 1.5)},
    },
    "RB": {
        "growth_per_h": 0.020,
        "parent": "P",
        "selected_with": "B",
        "kill": {"A": (0.05, 0.12, 1.5), "B": (0.05, 20.0, 1.5)},
    },
}


def synthetic_responses(
    truth: Mapping[str, Mapping[str, object]] | None = None,
    *,
    doses_um: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0),
    replicates: int = 3,
    assay_hours: float = 72.0,
    initial_cells: float = 2000.0,
    noise_cv: float = 0.05,
    seed: int | None = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate a plate assay of lines with known drug effects.

    Each line grows exponentially at ``growth_per_h``; a drug at concentration ``c`` adds a
    death rate ``kill_max c^h / (c^h + EC50^h)``. Counts after ``assay_hours`` carry
    log-normal noise; ``response = count / count_ctrl``.

    Parameters
    ----------
    truth
        Per line: ``growth_per_h``, ``kill`` (drug -> (max kill per h, EC50 µM, Hill)) and for
        derived lines ``parent`` and ``selected_with`` (default :data:`DEFAULT_TRUTH`).
    doses_um
        Tested concentrations (µM); untreated controls are added at 0.
    replicates
        Wells per concentration.
    assay_hours
        Assay duration (h).
    initial_cells
        Cells per well at treatment (``count_t0``).
    noise_cv
        Coefficient of variation of the counts.
    seed
        Seed of the noise.

    Returns
    -------
    responses, derivatives
        ``sample_id, drug, concentration_um, response, count, count_ctrl, count_t0`` and
        ``sample_id, parent, selected_with``.

    Examples
    --------
    >>> responses, derivatives = synthetic_responses()
    >>> sorted(responses["sample_id"].unique()), list(derivatives["parent"])
    (['P', 'RA', 'RB'], ['P', 'P'])
    """
    spec = DEFAULT_TRUTH if truth is None else truth
    rng = np.random.default_rng(seed)
    rows = []
    deriv = []
    for sample, info in spec.items():
        k0 = float(info["growth_per_h"])  # type: ignore[arg-type]
        ctrl = initial_cells * np.exp(k0 * assay_hours)
        kills: Mapping[str, tuple[float, float, float]] = info["kill"]  # type: ignore[assignment]
        for drug, (kmax, ec50, hill) in kills.items():
            for c in (0.0, *doses_um):
                kill = kmax * c**hill / (c**hill + ec50**hill)
                mean = initial_cells * np.exp((k0 - kill) * assay_hours)
                counts = mean * rng.lognormal(0.0, noise_cv, replicates)
                for n in counts:
                    rows.append(
                        {
                            "sample_id": sample,
                            "drug": drug,
                            "concentration_um": c,
                            "response": n / ctrl,
                            "count": n,
                            "count_ctrl": ctrl,
                            "count_t0": initial_cells,
                        }
                    )
        if "parent" in info:
            deriv.append(
                {
                    "sample_id": sample,
                    "parent": str(info["parent"]),
                    "selected_with": str(info["selected_with"]),
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(deriv, columns=["sample_id", "parent", "selected_with"])


# an illustrative 3-locus landscape pair (not measured): drug X's most resistant genotype 111
# is reached from most starts; drug Y drives the population to 010, from which X cannot reach it
EXAMPLE_LANDSCAPES: dict[str, list[float]] = {
    "X": [1.0, 1.2, 1.5, 1.1, 1.3, 1.6, 1.4, 2.0],
    "Y": [0.8, 1.0, 2.2, 0.6, 0.9, 0.7, 1.2, 0.5],
}


def write_example(out_dir: str | Path, *, seed: int | None = 0) -> dict[str, Path]:
    """Write ``responses.tsv``, ``derivatives.tsv`` (:func:`synthetic_responses`) and an
    illustrative ``landscapes.tsv`` (``drug, genotype, fitness``) under ``out_dir``.

    Examples
    --------
    >>> import tempfile
    >>> sorted(write_example(tempfile.mkdtemp()))
    ['derivatives', 'landscapes', 'responses']
    """
    from ithkit.io import write_table

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    responses, derivatives = synthetic_responses(seed=seed)
    land = pd.DataFrame(
        [
            {"drug": d, "genotype": format(g, "03b"), "fitness": f}
            for d, values in EXAMPLE_LANDSCAPES.items()
            for g, f in enumerate(values)
        ]
    )
    return {
        "responses": write_table(responses, out / "responses.tsv"),
        "derivatives": write_table(derivatives, out / "derivatives.tsv"),
        "landscapes": write_table(land, out / "landscapes.tsv"),
    }
