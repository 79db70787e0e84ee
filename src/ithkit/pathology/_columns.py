"""Column names of cell-detection exports: QuPath's two generations and a user mapping."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence

from ithkit._errors import InputError

# standard names of the detections frame (the columns :func:`read_detections` returns)
IMAGE = "image"
REGION = "region"
CLASS = "classification"
INTENSITY = "intensity"
X_UM = "x_um"
Y_UM = "y_um"
DISTANCE_UM = "boundary_distance_um"
NO_REGION = "(none)"

# the keys a ``--columns`` mapping may name
MAPPING_KEYS = ("image", "region", "class", "marker", "x", "y", "her2", "cep17", "distance")

IMAGE_NAMES = ("Image", "Image name", "image")
CLASS_NAMES = ("Classification", "Class", "class", "classification")
_COMPARTMENTS = ("Nucleus", "Cell", "Cytoplasm", "Membrane")
# the statistic as the OD-style name writes it vs the colon-style name
_STATS = {"mean": "Mean", "median": "Median", "max": "Max", "min": "Min", "std dev": "Std.Dev."}
_OD = re.compile(r"^\s*(\w+):\s*(.+?)\s+OD\s+(mean|median|max|min|std dev)\s*$", re.I)
_COLON = re.compile(r"^\s*([^:]+):\s*([^:]+):\s*([^:]+?)\s*$")


def parse_mapping(text: str | Mapping[str, str] | None, *, source: str = "--columns") -> dict:
    """Parse ``x=Centroid X,y=...`` into a dict, checking the keys.

    Examples
    --------
    >>> parse_mapping("x=X_centroid, y=Y_centroid,marker=DAB")
    {'x': 'X_centroid', 'y': 'Y_centroid', 'marker': 'DAB'}
    """
    if text is None:
        return {}
    if isinstance(text, Mapping):
        items = dict(text)
    else:
        items = {}
        for part in (p for p in text.split(",") if p.strip()):
            if "=" not in part:
                raise InputError(
                    f"{part.strip()!r} is not KEY=COLUMN", source=source,
                    fix="write e.g. --columns x=X_centroid,y=Y_centroid,marker=Mean_DAB",
                )  # fmt: skip
            key, value = part.split("=", 1)
            items[key.strip()] = value.strip()
    unknown = [k for k in items if k not in MAPPING_KEYS]
    if unknown:
        raise InputError(
            f"unknown key {unknown[0]!r}", source=source,
            fix=f"the keys are {', '.join(MAPPING_KEYS)}",
        )  # fmt: skip
    return items


def marker_variants(marker: str) -> list[str]:
    """The names one intensity measurement has had across QuPath versions.

    ``Nucleus: DAB OD mean`` (built-in cell detection), ``Nucleus: DAB: Mean`` (v0.6+ and
    StarDist) and ``DAB: Nucleus: Mean`` (v0.4-0.5) name the same measurement.

    Examples
    --------
    >>> marker_variants("Nucleus: DAB OD mean")
    ['Nucleus: DAB OD mean', 'Nucleus: DAB: Mean', 'DAB: Nucleus: Mean']
    >>> marker_variants("DAB: Cell: Mean")[1:]
    ['Cell: DAB OD mean', 'Cell: DAB: Mean']
    """
    out = [marker]
    comp = stain = stat = None
    m = _OD.match(marker)
    if m:
        comp, stain, stat = m.group(1), m.group(2), _STATS[m.group(3).lower()]
    else:
        c = _COLON.match(marker)
        if c:
            a, b, s = (g.strip() for g in c.groups())
            if a.capitalize() in _COMPARTMENTS:
                comp, stain, stat = a, b, s
            elif b.capitalize() in _COMPARTMENTS:
                comp, stain, stat = b, a, s
    if comp and stain and stat:
        od_stat = {v.lower(): k for k, v in _STATS.items()}.get(stat.lower())
        if od_stat:
            out.append(f"{comp}: {stain} OD {od_stat}")
        out.append(f"{comp}: {stain}: {stat}")
        out.append(f"{stain}: {comp}: {stat}")
    seen: list[str] = []
    for name in out:
        if name not in seen:
            seen.append(name)
    return seen


def near_names(name: str, header: Sequence[str], *, n: int = 4) -> list[str]:
    """Header names close to ``name`` (for 'did you mean' messages).

    Examples
    --------
    >>> near_names("Nucleus: DAB OD mean", ["Nucleus: DAB OD max", "Area µm^2"])
    ['Nucleus: DAB OD max']
    """
    close = difflib.get_close_matches(name, list(header), n=n, cutoff=0.5)
    if close:
        return close
    words = [w for w in re.split(r"[:\s]+", name.lower()) if len(w) > 2]
    return [h for h in header if any(w in h.lower() for w in words)][:n]


def find_column(
    header: Sequence[str], candidates: Sequence[str], *, source: str, what: str, fix: str
) -> str:
    """The first of ``candidates`` present in ``header``, or an error listing the near names."""
    for c in candidates:
        if c in header:
            return c
    near = near_names(candidates[0], header)
    hint = f"; near names: {', '.join(map(repr, near))}" if near else ""
    raise InputError(f"{what} column {candidates[0]!r} is absent{hint}", source=source, fix=fix)


def coordinate_columns(header: Sequence[str]) -> tuple[str, str, str] | None:
    """QuPath's centroid columns and their unit (``um`` or ``px``), or None when absent.

    Examples
    --------
    >>> coordinate_columns(["Image", "Centroid X µm", "Centroid Y µm"])
    ('Centroid X µm', 'Centroid Y µm', 'um')
    >>> coordinate_columns(["Centroid X px", "Centroid Y px"])
    ('Centroid X px', 'Centroid Y px', 'px')
    """
    for unit_names, unit in ((("µm", "um", "μm"), "um"), (("px",), "px")):
        for u in unit_names:
            x, y = f"Centroid X {u}", f"Centroid Y {u}"
            if x in header and y in header:
                return x, y, unit
    return None


def distance_column(header: Sequence[str], boundary: str, *, source: str) -> tuple[str, str]:
    """QuPath's signed distance to the ``boundary`` class annotations and its unit.

    Examples
    --------
    >>> distance_column(["Signed distance to annotation Tumor µm"], "Tumor", source="x")
    ('Signed distance to annotation Tumor µm', 'um')
    """
    for stem in (f"Signed distance to annotation {boundary}",
                 f"Signed distance to annotation with {boundary}"):  # fmt: skip
        for unit, name in (("um", "µm"), ("um", "um"), ("um", "μm"), ("px", "px")):
            if f"{stem} {name}" in header:
                return f"{stem} {name}", unit
    near = [h for h in header if "distance" in h.lower()][:4]
    raise InputError(
        f"no column 'Signed distance to annotation {boundary} µm'"
        + (f"; distance columns: {', '.join(map(repr, near))}" if near else ""),
        source=source,
        fix="run QuPath's Analyze > Spatial analysis > Signed distance to annotations 2D, or map "
        "a signed distance (negative inside) with --columns distance=...",
    )


def region_name(parent: str) -> str:
    """The annotation name inside QuPath's ``Parent`` value.

    Examples
    --------
    >>> region_name("Annotation (tumor core)")
    'tumor core'
    >>> region_name("margin")
    'margin'
    """
    s = parent.strip()
    if s.endswith(")") and "(" in s:
        inner = s[s.index("(") + 1 : -1].strip()
        if inner:
            return inner
    return s or NO_REGION
