"""Therapy scenarios: the YAML schema, its validation and the model it describes.

A scenario is a small population model (Lotka-Volterra competition with mutation), the drugs and
what they do, a biomarker, a therapy policy and a progression rule. Both engines
(:mod:`ithkit.evolution._ode`, :mod:`ithkit.evolution._stochastic`) read the same
:class:`Scenario`. Rates are per day; populations are cell counts (or any density unit).
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ithkit._errors import InputError

EngineName = Literal["ode", "stochastic"]

POLICY_KINDS = (
    "none",
    "continuous",
    "combination",
    "intermittent",
    "adaptive",
    "sequential",
    "double_bind",
    "alternating",
    "schedule",
)

_TOP_KEYS = {
    "engine",
    "horizon_days",
    "populations",
    "competition",
    "drugs",
    "transitions",
    "biomarker",
    "policy",
    "progression",
    "treatment_start",
    "check_interval_days",
    "stochastic",
    "name",
    "description",
}
_POP_KEYS = {"initial", "growth_rate", "death_rate", "capacity", "floor"}
_DRUG_KEYS = {"kill_rate", "capacity", "dose", "growth_factor", "transitions"}
_BIOMARKER_KEYS = {"name", "production", "decay", "initial"}
_PROGRESSION_KEYS = {"biomarker_fold", "total_fold", "population_fraction"}
_STOCHASTIC_KEYS = {"gillespie_below", "tau_epsilon"}


@dataclass(frozen=True)
class Capacity:
    """Carrying capacity ``K = constant + sum_j coef_j x_j`` (``inf`` = no limit)."""

    constant: float
    coefficients: tuple[tuple[str, float], ...] = ()

    def value(self, x: np.ndarray, index: Mapping[str, int]) -> float:
        """K for the population vector ``x``."""
        k = self.constant
        for name, coef in self.coefficients:
            k += coef * float(x[index[name]])
        return k


@dataclass(frozen=True)
class Population:
    """One cell population (per-day rates)."""

    name: str
    initial: float
    growth_rate: float
    death_rate: float = 0.0
    capacity: Capacity = Capacity(math.inf)
    floor: float = 0.0


@dataclass(frozen=True)
class Drug:
    """What a drug does while it is on: extra death, changed capacity, scaled growth.

    ``transitions``: drug-induced switching; each ``(source, ((target, probability), ...))``
    replaces the scenario's transition row of ``source`` while the drug is on.
    """

    name: str
    kill_rate: tuple[tuple[str, float], ...] = ()
    capacity: tuple[tuple[str, Capacity], ...] = ()
    growth_factor: tuple[tuple[str, float], ...] = ()
    dose: float = 1.0
    transitions: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()


@dataclass(frozen=True)
class Biomarker:
    """``dB/dt = sum_i production_i x_i - decay B``; ``decay`` None: ``B = sum_i p_i x_i``."""

    name: str
    production: tuple[float, ...]
    decay: float | None
    initial: float | None = None


@dataclass(frozen=True)
class Progression:
    """Progression rule: any of the given criteria, whichever comes first.

    ``biomarker_fold``: biomarker above this multiple of its baseline (the value when therapy
    starts); ``total_fold``: total cells above this multiple of baseline; ``population_fraction``:
    a population's share of all cells above the given fraction.
    """

    biomarker_fold: float | None = None
    total_fold: float | None = None
    population_fraction: tuple[tuple[str, float], ...] = ()

    @property
    def empty(self) -> bool:
        return (
            self.biomarker_fold is None and self.total_fold is None and not self.population_fraction
        )


@dataclass(frozen=True)
class Scenario:
    """A validated therapy scenario (see ``docs/evolution.md`` for the YAML schema).

    Build one with :func:`load_scenario` (file, dict or YAML text). ``raw`` keeps the mapping it
    was read from, so :meth:`with_values` can change parameters by key path (fitting, policy
    comparison).
    """

    engine: EngineName
    horizon_days: float
    populations: tuple[Population, ...]
    competition: np.ndarray
    drugs: tuple[Drug, ...]
    transitions: np.ndarray
    biomarker: Biomarker | None
    policy: dict[str, Any]
    progression: Progression
    treatment_start_fold: float | None = None
    check_interval_days: float = 1.0
    gillespie_below: float = 1000.0
    tau_epsilon: float = 0.03
    name: str = "scenario"
    source: str = "scenario"
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def names(self) -> tuple[str, ...]:
        """Population names in order."""
        return tuple(p.name for p in self.populations)

    @property
    def index(self) -> dict[str, int]:
        """Population name -> position."""
        return {p.name: i for i, p in enumerate(self.populations)}

    @property
    def drug_names(self) -> tuple[str, ...]:
        """Drug names in order."""
        return tuple(d.name for d in self.drugs)

    def with_values(self, values: Mapping[str, Any]) -> Scenario:
        """A copy with values set by dotted key path, e.g. ``populations.S.growth_rate``.

        Examples
        --------
        >>> s = load_scenario(EXAMPLE)
        >>> s.with_values({"populations.S.growth_rate": 0.05}).populations[0].growth_rate
        0.05
        """
        raw = copy.deepcopy(self.raw)
        for path, value in values.items():
            parts = path.split(".")
            node: Any = raw
            for part in parts[:-1]:
                if not isinstance(node, dict):
                    raise InputError(
                        f"key path {path!r} goes through a value that is not a mapping",
                        source=self.source,
                        fix="use a path such as populations.S.growth_rate",
                    )
                node = node.setdefault(part, {})
            node[parts[-1]] = value
        return load_scenario(raw, source=self.source)

    def with_policy(self, policy: Mapping[str, Any]) -> Scenario:
        """A copy with another policy mapping (validated)."""
        raw = copy.deepcopy(self.raw)
        raw["policy"] = dict(policy)
        return load_scenario(raw, source=self.source)


EXAMPLE = """
engine: ode
horizon_days: 400
populations:
  S: {initial: 5000, growth_rate: 0.03, death_rate: 0.0, capacity: 10000}
  R: {initial: 10, growth_rate: 0.02, capacity: {constant: 0, S: 1.5}}
competition: {S: {R: 0.5}, R: {S: 0.9}}
drugs:
  A: {kill_rate: {S: 0.05}, capacity: {S: 500}}
transitions: {S: {R: 1.0e-7}}
biomarker: {name: PSA, production: {S: 1, R: 1}, decay: 0.5}
policy: {kind: adaptive, drug: A, off_below: 0.5, on_above: 1.0}
progression: {biomarker_fold: 1.2}
"""


# ---------------------------------------------------------------------------------------------
# validation helpers


class _Ctx:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str, fix: str) -> InputError:
        return InputError(f"{path}: {problem}", source=self.source, fix=fix)

    def mapping(self, value: Any, path: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a mapping, got {value!r}", "write key: value pairs")
        return {str(k): v for k, v in value.items()}

    def keys(self, value: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in value:
            if key not in allowed:
                raise self.fail(
                    f"{path}.{key}" if path else key,
                    "unknown key",
                    f"allowed keys: {', '.join(sorted(allowed))}",
                )

    def number(
        self,
        value: Any,
        path: str,
        *,
        minimum: float | None = 0.0,
        strict: bool = False,
        maximum: float | None = None,
        allow_inf: bool = False,
    ) -> float:
        if isinstance(value, bool) or value is None:
            raise self.fail(path, f"expected a number, got {value!r}", "write a number")
        if isinstance(value, str) and value.strip().lower() in ("inf", ".inf", "infinity"):
            value = math.inf
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise self.fail(path, f"expected a number, got {value!r}", "write a number") from None
        if math.isnan(number) or (math.isinf(number) and not allow_inf):
            raise self.fail(path, f"{value!r} is not a finite number", "write a finite number")
        if minimum is not None and (number < minimum or (strict and number == minimum)):
            rel = ">" if strict else ">="
            raise self.fail(path, f"{number:g} is out of range", f"it must be {rel} {minimum:g}")
        if maximum is not None and number > maximum:
            raise self.fail(path, f"{number:g} is out of range", f"it must be <= {maximum:g}")
        return number

    def population(self, value: Any, path: str, names: tuple[str, ...]) -> str:
        name = str(value)
        if name not in names:
            raise self.fail(path, f"unknown population {name!r}", f"use one of: {', '.join(names)}")
        return name

    def capacity(self, value: Any, path: str, names: tuple[str, ...]) -> Capacity:
        if isinstance(value, Mapping):
            spec = self.mapping(value, path)
            constant = self.number(spec.pop("constant", 0.0), f"{path}.constant", allow_inf=True)
            coefs = []
            for key, coef in spec.items():
                pop = self.population(key, f"{path}.{key}", names)
                coefs.append((pop, self.number(coef, f"{path}.{key}")))
            if constant == 0 and not coefs:
                raise self.fail(path, "capacity is 0", "give a positive constant or coefficients")
            return Capacity(constant, tuple(coefs))
        number = self.number(value, path, strict=True, allow_inf=True)
        return Capacity(number)


def _transition_rows(
    ctx: _Ctx, value: Any, path: str, names: tuple[str, ...]
) -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
    """``{X: {Y: probability}}`` validated: known populations, no self-switch, row sums <= 1."""
    rows = []
    for a, row_any in ctx.mapping(value, path).items():
        src = ctx.population(a, f"{path}.{a}", names)
        row = []
        for b, prob in ctx.mapping(row_any, f"{path}.{a}").items():
            dst = ctx.population(b, f"{path}.{a}.{b}", names)
            if dst == src:
                raise ctx.fail(f"{path}.{a}.{b}", "a population cannot mutate to itself",
                               "remove this entry")  # fmt: skip
            row.append((dst, ctx.number(prob, f"{path}.{a}.{b}", maximum=1.0)))
        if sum(p for _, p in row) > 1.0:
            raise ctx.fail(f"{path}.{a}", "probabilities of one population sum above 1",
                           "they are per division; keep each row's sum <= 1")  # fmt: skip
        rows.append((src, tuple(row)))
    return tuple(rows)


def _read_raw(scenario: str | Path | Mapping[str, Any], source: str | None) -> tuple[dict, str]:
    import yaml

    if isinstance(scenario, Mapping):
        return copy.deepcopy(dict(scenario)), source or "scenario"
    if isinstance(scenario, Path) or (
        isinstance(scenario, str) and "\n" not in scenario and scenario.endswith((".yaml", ".yml"))
    ):
        path = Path(scenario)
        if not path.is_file():
            raise InputError("scenario file not found", source=path, fix="check the path")
        text = path.read_text(encoding="utf-8")
        src = source or str(path)
    else:
        text = str(scenario)
        src = source or "scenario"
    try:
        raw = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:  # bad timestamps raise ValueError
        mark = getattr(exc, "problem_mark", None)
        row = None if mark is None else mark.line + 1
        raise InputError(
            "not valid YAML", source=src, row=row, fix="check indentation and colons"
        ) from None
    if not isinstance(raw, Mapping):
        raise InputError("a scenario is a YAML mapping", source=src, fix="see docs/evolution.md")
    return dict(raw), src


def load_scenario(
    scenario: str | Path | Mapping[str, Any] | Scenario, *, source: str | None = None
) -> Scenario:
    """Read and validate a therapy scenario (YAML file, YAML text or a mapping).

    Parameters
    ----------
    scenario
        Path to a ``.yaml`` file, YAML text, a mapping with the same keys, or a
        :class:`Scenario` (returned unchanged).
    source
        Name used in error messages (default: the file path).

    Returns
    -------
    Scenario

    Raises
    ------
    ithkit.InputError
        One line naming the file, the key path, the problem and the fix.

    Examples
    --------
    >>> s = load_scenario(EXAMPLE)
    >>> s.names, s.drug_names, s.policy["kind"]
    (('S', 'R'), ('A',), 'adaptive')
    >>> load_scenario({"populations": {"S": {"initial": -1, "growth_rate": 0.1}}})
    Traceback (most recent call last):
    ...
    ithkit._errors.InputError: scenario: populations.S.initial: -1 is out of range; it must be >= 0
    """
    if isinstance(scenario, Scenario):
        return scenario
    raw, src = _read_raw(scenario, source)
    ctx = _Ctx(src)
    ctx.keys(raw, _TOP_KEYS, "")

    engine = str(raw.get("engine", "ode"))
    if engine not in ("ode", "stochastic"):
        raise ctx.fail("engine", f"unknown engine {engine!r}", "use ode or stochastic")
    horizon = ctx.number(raw.get("horizon_days", 3650), "horizon_days", strict=True)

    pops_raw = ctx.mapping(raw.get("populations"), "populations")
    if not pops_raw:
        raise ctx.fail("populations", "no populations", "name at least one population")
    names = tuple(pops_raw)
    populations = []
    for name, spec_any in pops_raw.items():
        path = f"populations.{name}"
        spec = ctx.mapping(spec_any, path)
        ctx.keys(spec, _POP_KEYS, path)
        if "initial" not in spec or "growth_rate" not in spec:
            raise ctx.fail(path, "initial and growth_rate are required", "add both (per day)")
        cap = (
            ctx.capacity(spec["capacity"], f"{path}.capacity", names)
            if "capacity" in spec
            else Capacity(math.inf)
        )
        populations.append(
            Population(
                name=name,
                initial=ctx.number(spec["initial"], f"{path}.initial"),
                growth_rate=ctx.number(spec["growth_rate"], f"{path}.growth_rate"),
                death_rate=ctx.number(spec.get("death_rate", 0.0), f"{path}.death_rate"),
                capacity=cap,
                floor=ctx.number(spec.get("floor", 0.0), f"{path}.floor"),
            )
        )
    n = len(names)
    index = {nm: i for i, nm in enumerate(names)}

    competition = np.eye(n)
    comp = ctx.mapping(raw.get("competition"), "competition")
    for a, row in comp.items():
        i = index[ctx.population(a, f"competition.{a}", names)]
        for b, coef in ctx.mapping(row, f"competition.{a}").items():
            j = index[ctx.population(b, f"competition.{a}.{b}", names)]
            competition[i, j] = ctx.number(coef, f"competition.{a}.{b}", minimum=None)

    transitions = np.zeros((n, n))
    for a, row in _transition_rows(ctx, raw.get("transitions"), "transitions", names):
        for b, prob in row:
            transitions[index[a], index[b]] = prob

    drugs = []
    for dname, spec_any in ctx.mapping(raw.get("drugs"), "drugs").items():
        path = f"drugs.{dname}"
        if dname.lower() == "none" or "+" in dname:
            raise ctx.fail(path, f"drug name {dname!r} is reserved", "rename the drug")
        spec = ctx.mapping(spec_any, path)
        ctx.keys(spec, _DRUG_KEYS, path)
        kill = tuple(
            (ctx.population(p, f"{path}.kill_rate.{p}", names),
             ctx.number(v, f"{path}.kill_rate.{p}"))
            for p, v in ctx.mapping(spec.get("kill_rate"), f"{path}.kill_rate").items()
        )  # fmt: skip
        caps = tuple(
            (ctx.population(p, f"{path}.capacity.{p}", names),
             ctx.capacity(v, f"{path}.capacity.{p}", names))
            for p, v in ctx.mapping(spec.get("capacity"), f"{path}.capacity").items()
        )  # fmt: skip
        growth = tuple(
            (ctx.population(p, f"{path}.growth_factor.{p}", names),
             ctx.number(v, f"{path}.growth_factor.{p}"))
            for p, v in ctx.mapping(spec.get("growth_factor"), f"{path}.growth_factor").items()
        )  # fmt: skip
        dose = ctx.number(spec.get("dose", 1.0), f"{path}.dose")
        switching = _transition_rows(ctx, spec.get("transitions"), f"{path}.transitions", names)
        drugs.append(Drug(dname, kill, caps, growth, dose, switching))
    drug_names = tuple(d.name for d in drugs)

    biomarker = None
    if raw.get("biomarker") is not None:
        spec = ctx.mapping(raw["biomarker"], "biomarker")
        ctx.keys(spec, _BIOMARKER_KEYS, "biomarker")
        prod = np.zeros(n)
        prod_raw = spec.get("production")
        if prod_raw is None:
            prod[:] = 1.0
        else:
            for p, v in ctx.mapping(prod_raw, "biomarker.production").items():
                prod[index[ctx.population(p, f"biomarker.production.{p}", names)]] = ctx.number(
                    v, f"biomarker.production.{p}"
                )
        decay = spec.get("decay")
        biomarker = Biomarker(
            name=str(spec.get("name", "biomarker")),
            production=tuple(float(v) for v in prod),
            decay=None if decay is None else ctx.number(decay, "biomarker.decay", strict=True),
            initial=None
            if spec.get("initial") is None
            else ctx.number(spec["initial"], "biomarker.initial"),
        )

    prog_raw = ctx.mapping(raw.get("progression"), "progression")
    ctx.keys(prog_raw, _PROGRESSION_KEYS, "progression")
    progression = Progression(
        biomarker_fold=None
        if prog_raw.get("biomarker_fold") is None
        else ctx.number(prog_raw["biomarker_fold"], "progression.biomarker_fold", strict=True),
        total_fold=None
        if prog_raw.get("total_fold") is None
        else ctx.number(prog_raw["total_fold"], "progression.total_fold", strict=True),
        population_fraction=tuple(
            (ctx.population(p, f"progression.population_fraction.{p}", names),
             ctx.number(v, f"progression.population_fraction.{p}", strict=True, maximum=1.0))
            for p, v in ctx.mapping(
                prog_raw.get("population_fraction"), "progression.population_fraction"
            ).items()
        ),
    )  # fmt: skip
    if progression.biomarker_fold is not None and biomarker is None:
        raise ctx.fail("progression.biomarker_fold", "the scenario has no biomarker",
                       "add a biomarker section or use total_fold")  # fmt: skip

    policy = _validate_policy(raw.get("policy", {"kind": "none"}), ctx, names, drug_names)
    if policy["kind"] == "adaptive" and biomarker is None:
        raise ctx.fail("policy", "adaptive therapy needs a biomarker",
                       "add a biomarker section")  # fmt: skip

    start_fold = None
    if raw.get("treatment_start") is not None:
        ts = ctx.mapping(raw["treatment_start"], "treatment_start")
        ctx.keys(ts, {"biomarker_fold"}, "treatment_start")
        if biomarker is None:
            raise ctx.fail("treatment_start", "the scenario has no biomarker",
                           "add a biomarker section")  # fmt: skip
        start_fold = ctx.number(ts.get("biomarker_fold"), "treatment_start.biomarker_fold",
                                strict=True)  # fmt: skip

    sto = ctx.mapping(raw.get("stochastic"), "stochastic")
    ctx.keys(sto, _STOCHASTIC_KEYS, "stochastic")
    return Scenario(
        engine=engine,  # type: ignore[arg-type]
        horizon_days=horizon,
        populations=tuple(populations),
        competition=competition,
        drugs=tuple(drugs),
        transitions=transitions,
        biomarker=biomarker,
        policy=policy,
        progression=progression,
        treatment_start_fold=start_fold,
        check_interval_days=ctx.number(
            raw.get("check_interval_days", 1.0), "check_interval_days", strict=True
        ),
        gillespie_below=ctx.number(sto.get("gillespie_below", 1000), "stochastic.gillespie_below"),
        tau_epsilon=ctx.number(
            sto.get("tau_epsilon", 0.03), "stochastic.tau_epsilon", strict=True, maximum=1.0
        ),
        name=str(raw.get("name", Path(src).stem if src.endswith((".yaml", ".yml")) else src)),
        source=src,
        raw=raw,
    )


_POLICY_KEYS: dict[str, set[str]] = {
    "none": set(),
    "continuous": {"drug", "drugs"},
    "combination": {"drugs"},
    "intermittent": {"drug", "drugs", "on_days", "off_days"},
    "adaptive": {"drug", "drugs", "off_below", "on_above"},
    "sequential": {"drugs"},
    "double_bind": {"drugs", "monitor", "to_second_above", "to_first_below"},
    "alternating": {"drugs", "days"},
    "schedule": {"times_days", "therapy"},
}


def _validate_policy(
    value: Any, ctx: _Ctx, names: tuple[str, ...], drug_names: tuple[str, ...]
) -> dict[str, Any]:
    spec = ctx.mapping(value, "policy")
    kind = str(spec.pop("kind", "none"))
    if kind not in POLICY_KINDS:
        raise ctx.fail("policy.kind", f"unknown policy {kind!r}", f"use one of: "
                       f"{', '.join(POLICY_KINDS)}")  # fmt: skip
    ctx.keys(spec, _POLICY_KEYS[kind], "policy")

    def drug(name: Any, path: str) -> str:
        d = str(name)
        if d not in drug_names:
            raise ctx.fail(
                path,
                f"unknown drug {d!r}",
                f"define it under drugs (known: {', '.join(drug_names) or 'none'})",
            )
        return d  # fmt: skip

    out: dict[str, Any] = {"kind": kind}
    if kind == "none":
        return out
    if kind == "schedule":
        times = spec.get("times_days")
        therapy = spec.get("therapy")
        if (
            not isinstance(times, list)
            or not isinstance(therapy, list)
            or len(times) != len(therapy)
            or not times
        ):
            raise ctx.fail("policy", "schedule needs lists times_days and therapy of one length",
                           "e.g. times_days: [0, 60], therapy: [A, none]")  # fmt: skip
        t = [ctx.number(v, f"policy.times_days[{i}]") for i, v in enumerate(times)]
        if any(b <= a for a, b in itertools.pairwise(t)):
            raise ctx.fail("policy.times_days", "times are not increasing", "sort them")
        th = []
        for i, v in enumerate(therapy):
            label = str(v)
            parts = () if label == "none" else tuple(label.split("+"))
            th.append(tuple(drug(p, f"policy.therapy[{i}]") for p in parts))
        out.update(times_days=t, therapy=th)
        return out
    drugs_raw = spec.get("drugs", [spec["drug"]] if "drug" in spec else None)
    if drugs_raw is None:
        raise ctx.fail("policy", f"{kind} needs drug (or drugs)", "name a drug from drugs")
    if isinstance(drugs_raw, str):
        drugs_raw = [drugs_raw]
    drugs = [drug(d, f"policy.drugs[{i}]") for i, d in enumerate(drugs_raw)]
    out["drugs"] = drugs
    if kind == "intermittent":
        out["on_days"] = ctx.number(spec.get("on_days"), "policy.on_days", strict=True)
        out["off_days"] = ctx.number(spec.get("off_days"), "policy.off_days")
    elif kind == "adaptive":
        out["off_below"] = ctx.number(spec.get("off_below", 0.5), "policy.off_below")
        out["on_above"] = ctx.number(spec.get("on_above", 1.0), "policy.on_above", strict=True)
        if out["off_below"] >= out["on_above"]:
            raise ctx.fail("policy.off_below", "off_below must be below on_above",
                           "e.g. off_below: 0.5, on_above: 1.0")  # fmt: skip
    elif kind == "alternating":
        days = spec.get("days")
        if not isinstance(days, list) or len(days) != len(drugs):
            raise ctx.fail("policy.days", "alternating needs one duration per drug",
                           "e.g. drugs: [A, B], days: [14, 14]")  # fmt: skip
        out["days"] = [ctx.number(v, f"policy.days[{i}]", strict=True) for i, v in enumerate(days)]
    if kind in ("sequential", "double_bind", "alternating") and len(drugs) < 2:
        raise ctx.fail("policy.drugs", f"{kind} needs at least two drugs", "list two drugs")
    if kind == "double_bind":
        if len(drugs) != 2:
            raise ctx.fail("policy.drugs", "double_bind takes exactly two drugs", "drugs: [A, B]")
        out["monitor"] = ctx.population(spec.get("monitor"), "policy.monitor", names)
        out["to_second_above"] = ctx.number(
            spec.get("to_second_above"), "policy.to_second_above", maximum=1.0
        )
        out["to_first_below"] = ctx.number(
            spec.get("to_first_below"), "policy.to_first_below", maximum=1.0
        )
        if out["to_first_below"] >= out["to_second_above"]:
            raise ctx.fail("policy.to_first_below", "must be below to_second_above",
                           "e.g. to_second_above: 0.8, to_first_below: 0.2")  # fmt: skip
    return out
