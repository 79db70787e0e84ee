"""Dose-response tables with known truth: a parent line and two derived lines whose drug
sensitivities follow a growth-rate model, for tests, docs and the demo."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_TRUTH",
    "EXAMPLE_LANDSCAPES",
    "patient_responses",
    "patient_truth",
    "synthetic_responses",
    "write_example",
]

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


def patient_truth(
    patient: Any,
    *,
    drugs: tuple[str, str] = ("A", "B"),
    seed: int | None = 0,
    with_b_selected: bool = True,
) -> tuple[dict[str, dict[str, object]], pd.DataFrame]:
    """Per-clone drug sensitivities of a virtual patient (the truth behind
    :func:`patient_responses`).

    The model: every clone of ``patient`` (an :class:`ithkit.evolution.VirtualPatient`) is a line
    (e.g. an organoid grown from that clone) with untreated growth ``U(0.020, 0.028)`` per h. The
    first drug is the patient's therapy: sensitive clones die at up to 0.05 per h with EC50
    ``U(0.5, 1.5)`` µM, Hill 1.5; on the second drug their EC50 is ``U(3, 6)`` µM (less
    potent). The resistant clone resists the first drug (EC50 25 µM) and is collaterally
    sensitive to the second (EC50 0.15 µM). With ``with_b_selected`` a line
    ``<trunk>_sel<B>`` is added, derived in the lab from the trunk clone by selection with the
    second drug: EC50 20 µM on it and 0.12 µM on the first (the reverse collateral
    sensitivity, so the pair is a double bind). EC50s are drawn from ``seed``.

    Returns
    -------
    truth, derivatives
        ``truth`` in the format of :data:`DEFAULT_TRUTH`; ``derivatives``: ``sample_id,
        parent, selected_with`` (the B-selected line first, then the resistant clone with its
        parent in the clone tree, selected with the first drug).

    Examples
    --------
    >>> from ithkit.evolution import virtual_patient
    >>> truth, deriv = patient_truth(virtual_patient(seed=3, n_regions=2))
    >>> list(deriv["selected_with"])
    ['B', 'A']
    """
    a, b = drugs
    rng = np.random.default_rng(seed)
    clones = patient.clones
    trunk = str(clones.loc[clones["parent"].isna(), "clone_id"].iloc[0])
    truth: dict[str, dict[str, object]] = {}
    deriv = []
    for cid, parent, resistant in zip(
        clones["clone_id"], clones["parent"], clones["is_resistant"], strict=True
    ):
        growth = float(rng.uniform(0.020, 0.028))
        ec_a, ec_b = float(rng.uniform(0.5, 1.5)), float(rng.uniform(3.0, 6.0))
        if bool(resistant):
            ec_a, ec_b = 25.0, 0.15
            deriv.append({"sample_id": str(cid), "parent": str(parent), "selected_with": a})
        truth[str(cid)] = {
            "growth_per_h": growth,
            "kill": {a: (0.05, ec_a, 1.5), b: (0.05, ec_b, 1.5)},
        }
    if with_b_selected:
        name = f"{trunk}_sel{b}"
        truth[name] = {
            "growth_per_h": float(truth[trunk]["growth_per_h"]),  # type: ignore[arg-type]
            "kill": {a: (0.05, 0.12, 1.5), b: (0.05, 20.0, 1.5)},
        }
        deriv.insert(0, {"sample_id": name, "parent": trunk, "selected_with": b})
    return truth, pd.DataFrame(deriv, columns=["sample_id", "parent", "selected_with"])


def patient_responses(
    patient: Any,
    *,
    drugs: tuple[str, str] = ("A", "B"),
    seed: int | None = 0,
    with_b_selected: bool = True,
    counts: bool = False,
    **assay: Any,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, object]]]:
    """Dose-response table of a virtual patient's clones, with the truth behind it.

    The sensitivities follow :func:`patient_truth`; the plate assay is
    :func:`synthetic_responses` (``assay`` passes its options: ``doses_um, replicates,
    assay_hours, noise_cv``). Without ``counts`` only ``response`` is kept (viability), so the
    design converts it with the viability rule.

    Returns
    -------
    responses, derivatives, truth
        The ``responses.tsv`` and ``derivatives.tsv`` tables of :func:`fit_responses` and
        :func:`collateral_sensitivity`, and the truth.

    Examples
    --------
    >>> from ithkit.evolution import virtual_patient
    >>> vp = virtual_patient(seed=3, n_regions=2)
    >>> responses, deriv, truth = patient_responses(vp, replicates=2)
    >>> sorted(responses["drug"].unique()), len(truth) == len(vp.clones) + 1
    (['A', 'B'], True)
    """
    truth, deriv = patient_truth(patient, drugs=drugs, seed=seed, with_b_selected=with_b_selected)
    responses, _ = synthetic_responses(truth, seed=seed, **assay)
    if not counts:
        responses = responses.drop(columns=["count", "count_ctrl", "count_t0"])
    return responses, deriv, truth
