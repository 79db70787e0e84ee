"""The findings of one patient: the few facts a tumour board should read first.

Each finding comes from a fixed rule on numbers the analyses computed (the profile, the
concordance and the result objects); rules are deterministic and each has a test on virtual
patients whose truth makes it true or false. A finding links to its report section and, where
the evidence is weak, carries a one-line caveat.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ithkit.integrate._types import PatientData, PatientResults
from ithkit.integrate.profile import _as_text, profile_value

FINDING_COLUMNS = (
    "patient_id", "rank", "modality", "finding", "value", "unit", "source", "section", "caveat",
)  # fmt: skip

# a lesion counts as growing / shrinking for the mixed-response finding beyond these changes
# (RECIST's per-patient thresholds: +20 % progression, -30 % response)
GROWING_PCT = 20.0
SHRINKING_PCT = -30.0

Finding = dict[str, Any]
Ctx = tuple[PatientData, PatientResults, pd.DataFrame, pd.DataFrame]


def patient_findings(
    data: PatientData, results: PatientResults, profile: pd.DataFrame, concordance: pd.DataFrame
) -> pd.DataFrame:
    """Rank the patient's findings (at most 8), most important first.

    Parameters
    ----------
    data, results
        The patient's inputs and analysis outputs.
    profile
        :func:`ithkit.integrate.profile.patient_profile`.
    concordance
        :func:`ithkit.integrate.profile.concordance`.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, rank, modality, finding, value, unit, source, section, caveat``.
    """
    ctx: Ctx = (data, results, profile, concordance)
    found: list[Finding] = []
    for rule in RULES:
        f = rule(ctx)
        if f is not None:
            found.append(f)
    frame = pd.DataFrame(found[:8], columns=list(FINDING_COLUMNS[2:]))
    frame["value"] = frame["value"].map(_as_text).astype("string")
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    frame.insert(0, "patient_id", data.patient_id)
    return frame


def _finding(modality: str, text: str, value: Any, unit: str, source: str,
             caveat: str = "", section: str | None = None) -> Finding:  # fmt: skip
    return {"modality": modality, "finding": text, "value": value, "unit": unit,
            "source": source, "section": section or modality, "caveat": caveat}  # fmt: skip


def branched_evolution(ctx: Ctx) -> Finding | None:
    """Genomic: the number of clones, those private to one region, those one biopsy misses."""
    _, results, profile, _ = ctx
    g = results.get("genomic")
    if g is None:
        return None
    n = profile_value(profile, "genomic", "n_clones")
    if n is None:
        return None
    n = int(n)
    n_regions = int(g.mutation_ccf["sample_id"].nunique())
    if n <= 1:
        return _finding("genomic", f"One clone found in {n_regions} region(s): no subclonal "
                        "structure detected.", n, "clones", "genomic/metrics.tsv")  # fmt: skip
    cls = g.mutations.groupby("clone_id")["class"].agg(lambda s: s.mode().iloc[0])
    private = int((cls == "private").sum())
    missed = profile_value(profile, "genomic", "clones_missed_by_one_region")
    shape = (
        "Branched" if private > 0 or g.tree.tree["parent"].value_counts().max() > 1 else "Linear"
    )
    text = f"{shape} evolution: {n} clones, {private} private to one region"
    if missed is not None and n_regions > 1:
        text += f"; one biopsy would have missed {float(missed):.1f} on average"
    caveat = ""
    if g.tree.n_consistent > 1:
        caveat = f"{n_regions} regions: {g.tree.n_consistent} trees fit equally well"
    return _finding("genomic", text + ".", n, "clones", "genomic/metrics.tsv", caveat)


def resistance_missed_by_biopsy(ctx: Ctx) -> Finding | None:
    """Concordance: a variant rising in plasma that no sequenced region holds."""
    conc = ctx[3]
    hit = conc[(conc["check"] == "plasma_variant_in_tissue") & (conc["concordant"] == False)]  # noqa: E712
    if not len(hit):
        return None
    first = hit.iloc[0]
    more = f" (and {len(hit) - 1} more)" if len(hit) > 1 else ""
    return _finding("concordance", f"Resistance seen in blood, not in the biopsies: "
                    f"{first['subject']}{more} rose in plasma but is in no sequenced region.",
                    len(hit), "variants", "concordance.tsv", section="concordance")  # fmt: skip


def mixed_response(ctx: Ctx) -> Finding | None:
    """Response: target lesions growing (>= +20 %) while others shrink (<= -30 %) at the same
    assessment; the assessment with the widest split is shown."""
    rec = ctx[1].get("response")
    if rec is None:
        return None
    les = rec.lesions
    les = les[
        (les["lesion_class"].astype(str) == "target") & les["change_from_baseline_pct"].notna()
    ]
    best: tuple[float, int, pd.Series, pd.Series] | None = None
    for tp in sorted(les["timepoint"].unique()):
        part = les[les["timepoint"] == tp]
        up = part[part["change_from_baseline_pct"] >= GROWING_PCT]
        down = part[part["change_from_baseline_pct"] <= SHRINKING_PCT]
        if len(up) and len(down):
            u = up.sort_values("change_from_baseline_pct").iloc[-1]
            d = down.sort_values("change_from_baseline_pct").iloc[0]
            spread = float(u["change_from_baseline_pct"] - d["change_from_baseline_pct"])
            if best is None or spread >= best[0]:  # the widest split (the latest on ties)
                best = (spread, int(tp), u, d)
    if best is None:
        return None
    _, tp, u, d = best
    text = (f"Mixed response at timepoint {tp}: {_lesion(u)} "
            f"{u['change_from_baseline_pct']:+.0f}% while {_lesion(d)} "
            f"{d['change_from_baseline_pct']:+.0f}%.")  # fmt: skip
    return _finding("response", text, float(u["change_from_baseline_pct"]),
                    "% change from baseline", "response/lesions.tsv")  # fmt: skip


def _lesion(row: pd.Series) -> str:
    kind = "lymph node" if bool(row.get("is_lymph_node", False)) else str(row.get("organ", ""))
    return f"{kind} {row['lesion_id']}".strip()


def best_response(ctx: Ctx) -> Finding | None:
    """Response: the best overall response (RECIST 1.1)."""
    profile = ctx[2]
    bor = profile_value(profile, "response", "best_overall_response")
    if bor is None:
        return None
    note = profile[(profile["modality"] == "response")
                   & (profile["score"] == "best_overall_response")]["note"].iloc[0]  # fmt: skip
    names = {"CR": "complete response", "PR": "partial response", "SD": "stable disease",
             "PD": "progressive disease", "NE": "not evaluable"}  # fmt: skip
    text = f"Best overall response (RECIST 1.1): {names.get(str(bor), str(bor))} ({bor})."
    caveat = (
        "not confirmed by a later scan" if note == "unconfirmed" and bor in ("CR", "PR") else ""
    )
    return _finding("response", text, str(bor), "category", "response/best_response.tsv", caveat)


def ctdna_lead(ctx: Ctx) -> Finding | None:
    """Liquid: ctDNA progression (tumour fraction rising) and the first emerging resistant
    variant, each timed against RECIST progression."""
    profile = ctx[2]
    days = profile_value(profile, "liquid", "lead_time_days")
    early = profile_value(profile, "liquid", "emerging_lead_time_days")
    if days is None and early is None:
        return None
    parts = []
    if days is not None:
        parts.append(_timing("ctDNA progression (tumour fraction rising)", float(days)))
    if early is not None:
        parts.append(_timing("an emerging resistant variant", float(early)))
    text = "; ".join(parts)
    value = float(days) if days is not None else float(early)
    return _finding("liquid", text + ".", value, "days",
                    "liquid/lead_time.tsv")  # fmt: skip


def _timing(what: str, days: float) -> str:
    if days > 0:
        return f"{what} {days:.0f} days before RECIST progression"
    if days < 0:
        return f"{what} {-days:.0f} days after RECIST progression"
    return f"{what} on the day of RECIST progression"


def adaptive_gain(ctx: Ctx) -> Finding | None:
    """Evolution: the best simulated policy and its gain over continuous therapy."""
    results, profile = ctx[1], ctx[2]
    comp = results.get("evolution")
    best = profile_value(profile, "evolution", "best_policy")
    gain = profile_value(profile, "evolution", "ttp_gain_days")
    if comp is None or best is None or gain is None or best == "continuous":
        return None
    ranking = comp.ranking()
    top = ranking.iloc[0]
    cont = ranking[ranking["policy"] == "continuous"]
    dose = ""
    if len(cont) and float(cont["cumulative_dose"].iloc[0]) > 0:
        rel = 100 * float(top["cumulative_dose"]) / float(cont["cumulative_dose"].iloc[0])
        dose = f" at {rel:.0f}% of the continuous dose"
    atleast = "at least " if bool(top["censored"]) else ""
    text = (f"{str(best).capitalize()} therapy: {atleast}+{float(gain):.0f} days to progression"
            f"{dose} (simulated on the patient's scenario).")  # fmt: skip
    return _finding("evolution", text, float(gain), "days", "evolution/compare/ranking.tsv",
                    "a model: its rates come from the scenario file")  # fmt: skip


def immune_context(ctx: Ctx) -> Finding | None:
    """Spatial: the immune infiltration category."""
    cat = profile_value(ctx[2], "spatial", "immune_infiltration")
    if cat is None:
        return None
    words = {"infiltrated": "immune cells inside the tumour",
             "excluded": "immune cells held at the tumour margin",
             "desert": "few immune cells near the tumour"}  # fmt: skip
    text = f"Immune-{cat} section: {words.get(str(cat), str(cat))}."
    return _finding("spatial", text, str(cat), "category", "spatial/summary.tsv")


def cnv_subclones(ctx: Ctx) -> Finding | None:
    """Single cell: CNV subclones among malignant cells."""
    n = profile_value(ctx[2], "singlecell", "n_cnv_subclones")
    if n is None:
        return None
    frac = profile_value(ctx[2], "singlecell", "malignant_fraction")
    extra = f" ({100 * float(frac):.0f}% of cells malignant)" if frac is not None else ""
    return _finding("singlecell", f"{int(n)} copy-number subclones in single cells{extra}.",
                    int(n), "subclones", "singlecell/metrics.tsv")  # fmt: skip


def interlesional(ctx: Ctx) -> Finding | None:
    """Imaging: lesion phenotypes across the patient's lesions."""
    het = profile_value(ctx[2], "imaging", "interlesional_heterogeneity")
    if het is None:
        return None
    n = profile_value(ctx[2], "imaging", "n_lesions_imaged")
    return _finding("imaging", f"Interlesional imaging heterogeneity {float(het):.2f} (SD units) "
                    f"across {int(n or 0)} imaged lesions.", float(het), "SD units",
                    "imaging/phenotype_patients.tsv")  # fmt: skip


# in order of importance for a tumour board
RULES: tuple[Callable[[Ctx], Finding | None], ...] = (
    branched_evolution,
    resistance_missed_by_biopsy,
    mixed_response,
    ctdna_lead,
    adaptive_gain,
    best_response,
    immune_context,
    cnv_subclones,
    interlesional,
)
