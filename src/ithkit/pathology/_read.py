"""Reading cell-detection exports (QuPath "Export measurements" and mapped tables)."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ithkit._errors import InputError
from ithkit._optional import import_optional
from ithkit.pathology import _columns as C

if TYPE_CHECKING:  # pragma: no cover
    from anndata import AnnData

_NULLS = ["", "NaN", "nan", "NA", "N/A", "null", "None", "-"]


def _header(p: Path) -> tuple[list[str], str, str]:
    """Header names, delimiter and text encoding of a table file."""
    if not p.exists():
        raise InputError("file not found", source=p, fix="check the path of the detections table")
    if p.is_dir():
        raise InputError("is a folder, not a file", source=p, fix="give the detections table")
    opener: Callable[..., Any] = gzip.open if p.suffix == ".gz" else open
    try:
        with opener(p, "rb") as fh:
            first = fh.readline()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc})", source=p, fix="check the file") from None
    if not first.strip():
        raise InputError("file is empty or has no header", source=p, fix="export it again")
    encoding = "utf-8"
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        # QuPath on Windows wrote µ as a single cp1252 byte in old versions
        encoding = "cp1252"
        try:
            line = first.decode("cp1252")
        except UnicodeDecodeError:
            raise InputError(
                "the header is neither UTF-8 nor Windows-1252 text",
                source=p,
                row=1,
                fix="export the table again as text (UTF-8)",
            ) from None
    line = line.rstrip("\r\n")
    suffixes = [s.lower() for s in p.suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] in (".tsv", ".txt", ".tab"):
        sep = "\t"
    elif suffixes and suffixes[-1] == ".csv":
        sep = ","
    else:
        sep = "\t" if "\t" in line else ","
    names = [h.strip().strip('"') for h in line.split(sep)]
    return names, sep, encoding


def _resolve(
    header: Sequence[str],
    *,
    marker: str | None,
    region_key: str | None,
    mapping: Mapping[str, str],
    pixel_size_um: float | None,
    source: str,
    boundary: str | None = None,
) -> dict[str, Any]:
    """Which file column plays which role; errors name the near columns."""
    dup = sorted({h for h in header if list(header).count(h) > 1})
    names: dict[str, Any] = {}

    def mapped(key: str) -> str:
        col = mapping[key]
        if col not in header:
            near = C.near_names(col, header)
            raise InputError(
                f"--columns {key}={col!r}: no such column"
                + (f"; near names: {', '.join(map(repr, near))}" if near else ""),
                source=source, column=col, fix="use a column name of the header",
            )  # fmt: skip
        return col

    names["image"] = (
        mapped("image")
        if "image" in mapping
        else next((h for h in C.IMAGE_NAMES if h in header), None)
    )
    names["class"] = (
        mapped("class")
        if "class" in mapping
        else next((h for h in C.CLASS_NAMES if h in header), None)
    )
    if "region" in mapping:
        names["region"] = mapped("region")
    elif region_key and region_key in header:
        names["region"] = region_key
    elif region_key and region_key != "Parent":
        C.find_column(header, [region_key], source=source, what="region",
                      fix="name the annotation column with --region-key")  # fmt: skip
    else:
        names["region"] = None
    if "marker" in mapping:
        names["marker"] = mapped("marker")
    elif marker:
        names["marker"] = C.find_column(
            header, C.marker_variants(marker), source=source, what="marker",
            fix="give --marker as a column of the header (QuPath names of any version work)",
        )  # fmt: skip
    else:
        names["marker"] = None
    px = pixel_size_um
    if px is not None and not (np.isfinite(px) and 0 < px < 1000):
        raise InputError(
            f"pixel size {px} µm is not plausible", source="--pixel-size",
            fix="give the pixel size in µm per pixel (e.g. 0.2527 for a 40x scan)",
        )  # fmt: skip
    if "x" in mapping or "y" in mapping:
        if not ("x" in mapping and "y" in mapping):
            raise InputError(
                "--columns names only one coordinate", source=source,
                fix="map both x= and y= (or neither)",
            )  # fmt: skip
        names["xy"] = (mapped("x"), mapped("y"), "px" if px is not None else "um")
    else:
        names["xy"] = C.coordinate_columns(header)
        if names["xy"] is not None and names["xy"][2] == "px" and px is None:
            raise InputError(
                f"coordinates are in pixels ({names['xy'][0]!r}) and no pixel size was given",
                source=source, column=names["xy"][0],
                fix="pass --pixel-size (µm per pixel, e.g. 0.2527), or export with calibration",
            )  # fmt: skip
    for key in ("her2", "cep17"):
        names[key] = mapped(key) if key in mapping else None
    names["distance"] = None
    if "distance" in mapping:
        names["distance"] = (mapped("distance"), "px" if px is not None else "um")
    elif boundary:
        names["distance"] = C.distance_column(header, boundary, source=source)
        if names["distance"][1] == "px" and px is None:
            raise InputError(
                f"distances are in pixels ({names['distance'][0]!r}) and no pixel size was given",
                source=source, fix="pass --pixel-size (µm per pixel)",
            )  # fmt: skip
    used = [v for k, v in names.items() if k not in ("xy", "distance") and v]
    used += list((names["xy"] or ())[:2]) + list((names["distance"] or ())[:1])
    clash = [u for u in used if u in dup]
    if clash:
        raise InputError(
            f"column {clash[0]!r} appears twice in the header", source=source, column=clash[0],
            fix="export again or rename one of them",
        )  # fmt: skip
    return names


def _categories(values: pd.Series, rename: Callable[[str], str], default: str) -> pd.Categorical:
    """A categorical column with its categories renamed (vectorised: per category, not per cell)."""
    cat = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    cats = [rename(str(c)) for c in cat.cat.categories]
    uniq, inv = np.unique(np.array([*cats, default], dtype=object), return_inverse=True)
    codes = cat.cat.codes.to_numpy()
    lookup = inv[:-1]
    new = np.where(codes >= 0, lookup[np.maximum(codes, 0)] if len(lookup) else 0, inv[-1])
    used = np.bincount(new, minlength=len(uniq)) > 0  # drop unused categories without a sort
    remap = np.cumsum(used) - 1
    return pd.Categorical.from_codes(remap[new].astype(np.int32), categories=list(uniq[used]))


def _numeric(values: pd.Series, *, source: str, column: str) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    num = pd.to_numeric(values.replace(_NULLS, np.nan), errors="coerce")
    bad = num.isna() & values.notna() & ~values.isin(_NULLS)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"value {values.iloc[i]!r} is not a number", source=source, row=i + 2, column=column,
            fix="the column must hold numbers (empty or NaN where missing)",
        )  # fmt: skip
    return num.to_numpy(dtype=float)


def _standardise(
    raw: pd.DataFrame,
    names: Mapping[str, Any],
    *,
    source: str,
    pixel_size_um: float | None,
    default_image: str,
) -> pd.DataFrame:
    n = len(raw)
    out: dict[str, Any] = {}
    if names["image"]:
        out[C.IMAGE] = _categories(raw[names["image"]], lambda s: s.strip() or default_image,
                                   default_image)  # fmt: skip
    else:
        out[C.IMAGE] = pd.Categorical.from_codes(np.zeros(n, np.int32), categories=[default_image])
    if names["region"]:
        out[C.REGION] = _categories(raw[names["region"]], C.region_name, C.NO_REGION)
    else:
        out[C.REGION] = pd.Categorical.from_codes(np.zeros(n, np.int32), categories=[C.NO_REGION])
    if names["class"]:
        out[C.CLASS] = _categories(raw[names["class"]], str.strip, "")
    if names["marker"]:
        out[C.INTENSITY] = _numeric(raw[names["marker"]], source=source, column=names["marker"])
    if names["xy"]:
        xcol, ycol, unit = names["xy"]
        scale = pixel_size_um if unit == "px" and pixel_size_um is not None else 1.0
        for key, col in ((C.X_UM, xcol), (C.Y_UM, ycol)):
            v = _numeric(raw[col], source=source, column=col)
            bad = ~np.isfinite(v)
            if bad.any():
                raise InputError(
                    "a centroid is empty", source=source, row=int(np.flatnonzero(bad)[0]) + 2,
                    column=col, fix="every cell needs both centroid coordinates",
                )  # fmt: skip
            out[key] = v * scale
    for key in ("her2", "cep17"):
        if names.get(key):
            out[key] = _numeric(raw[names[key]], source=source, column=names[key])
    if names.get("distance"):
        col, unit = names["distance"]
        scale = pixel_size_um if unit == "px" and pixel_size_um is not None else 1.0
        out[C.DISTANCE_UM] = _numeric(raw[col], source=source, column=col) * scale
    frame = pd.DataFrame(out)
    frame.attrs.update(
        source=source, marker=names["marker"] or "", coordinates=bool(names["xy"]),
        n_missing=int(np.isnan(frame[C.INTENSITY]).sum()) if C.INTENSITY in frame else 0,
    )  # fmt: skip
    return frame


def _read_arrow(p: Path, columns: Sequence[str], numeric: Sequence[str], sep: str, enc: str):
    import pyarrow as pa
    from pyarrow import csv as pacsv

    types = {c: (pa.float64() if c in numeric else pa.dictionary(pa.int32(), pa.string()))
             for c in columns}  # fmt: skip
    try:
        table = pacsv.read_csv(
            p,
            read_options=pacsv.ReadOptions(encoding=enc, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(columns), column_types=types, null_values=_NULLS,
                strings_can_be_null=True, quoted_strings_can_be_null=True,
            ),
        )  # fmt: skip
    except pa.ArrowKeyError as exc:
        raise InputError(
            f"a column is not in the file as named ({' '.join(str(exc).split())[:160]})",
            source=p,
            row=1,
            fix="remove spaces or quotes around the header names",
        ) from None
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        msg = " ".join(str(exc).split())
        m = re.search(r"column #(\d+):.*invalid value '([^']*)'", msg)
        if m:
            header = _header(p)[0]
            col = header[int(m.group(1))] if int(m.group(1)) < len(header) else None
            row = None
            if col is not None:  # the slow path, only to name the line
                text = pacsv.read_csv(p, read_options=pacsv.ReadOptions(encoding=enc),
                    parse_options=pacsv.ParseOptions(delimiter=sep),
                    convert_options=pacsv.ConvertOptions(include_columns=[col],
                    column_types={col: pa.string()})).column(0).to_pandas()  # fmt: skip
                num = pd.to_numeric(text.where(~text.isin(_NULLS)), errors="coerce")
                bad = np.flatnonzero((num.isna() & text.notna() & ~text.isin(_NULLS)).to_numpy())
                row = int(bad[0]) + 2 if bad.size else None
            raise InputError(
                f"value {m.group(2)!r} is not a number", source=p, row=row, column=col,
                fix="the column must hold numbers (empty or NaN where missing)",
            ) from None  # fmt: skip
        raise InputError(
            f"cannot parse the table ({msg[:200]})", source=p,
            fix=f"every row needs the same number of {'tabs' if sep == chr(9) else 'commas'}"
            " as the header",
        ) from None  # fmt: skip
    return table.to_pandas()


def read_detections(
    path: str | Path | pd.DataFrame,
    marker: str | None = None,
    *,
    region_key: str | None = "Parent",
    pixel_size_um: float | None = None,
    columns: str | Mapping[str, str] | None = None,
    boundary: str | None = None,
    as_anndata: bool = False,
) -> Any:
    """Read a cell-detection table into ithkit's detections frame (or the spatial AnnData).

    Reads QuPath "Export measurements" tables (TSV or CSV, ``.gz`` allowed) with the column names
    of every QuPath generation (``Classification`` or ``Class``; ``Centroid X µm`` with ``µ`` as
    U+00B5 or ``um``, or ``Centroid X px`` with ``pixel_size_um``; intensities ``Nucleus: DAB OD
    mean`` / ``Nucleus: DAB: Mean`` / ``DAB: Nucleus: Mean``), and any other tool's cell table
    through ``columns``. Only the columns needed are read (pyarrow, multi-threaded): a
    1-million-cell export reads in about a second.

    Parameters
    ----------
    path
        The export file, or a DataFrame holding such a table.
    marker
        The intensity column scored (any QuPath spelling of it); None reads no intensity (scores
        then come from the ``Classification`` column's ``Positive``/``1+``/``2+``/``3+``).
    region_key
        The column naming each cell's region; QuPath's ``Parent`` (``Annotation (tumor core)``
        becomes region ``tumor core``). Without it every cell is in region ``(none)``.
    pixel_size_um
        µm per pixel: needed when centroids are in px; mapped coordinates are then px too.
    columns
        Mapping from roles to the table's columns for other tools, as a dict or the CLI string
        ``x=...,y=...,marker=...,region=...,image=...,class=...,her2=...,cep17=...,distance=...``
        (``distance``: a signed distance to the tumour boundary, negative inside).
    boundary
        The class of the tumour annotation whose QuPath signed distance is read (``Tumor`` reads
        ``Signed distance to annotation Tumor µm``, from *Analyze > Spatial analysis > Signed
        distance to annotations 2D*): it splits tumour core from invasive margin.
    as_anndata
        Return the spatial AnnData (needs the ``[singlecell]`` extra) instead of the frame.

    Returns
    -------
    pandas.DataFrame
        One row per cell: ``image``, ``region``, ``classification`` (when present), ``intensity``
        (marker value, NaN where the export left it empty), ``x_um``, ``y_um`` (µm, when the
        export has centroids), ``her2``, ``cep17`` (when mapped), ``boundary_distance_um``
        (signed, negative inside the tumour; with ``boundary``). ``.attrs`` holds ``source``,
        ``marker``, ``coordinates`` and ``n_missing``.

    Examples
    --------
    >>> import io, pandas as pd
    >>> raw = pd.DataFrame({"Image": ["s1"] * 3, "Parent": ["Annotation (core)"] * 3,
    ...                     "Class": ["Tumor: Positive", "Tumor: Negative", "Stroma"],
    ...                     "Centroid X px": [10.0, 20, 30], "Centroid Y px": [5.0, 5, 5],
    ...                     "DAB: Nucleus: Mean": [0.5, 0.1, None]})
    >>> cells = read_detections(raw, "Nucleus: DAB OD mean", pixel_size_um=0.5)
    >>> cells["region"].tolist(), cells["x_um"].tolist(), cells.attrs["n_missing"]
    (['core', 'core', 'core'], [5.0, 10.0, 15.0], 1)
    """
    mapping = C.parse_mapping(columns)
    if isinstance(path, pd.DataFrame):
        source, header = "detections", [str(c) for c in path.columns]
        names = _resolve(header, marker=marker, region_key=region_key, mapping=mapping,
                         pixel_size_um=pixel_size_um, source=source, boundary=boundary)  # fmt: skip
        raw = path
        default_image = "image"
    else:
        p = Path(path)
        source = str(p)
        header, sep, enc = _header(p)
        names = _resolve(header, marker=marker, region_key=region_key, mapping=mapping,
                         pixel_size_um=pixel_size_um, source=source, boundary=boundary)  # fmt: skip
        numeric = [names[k] for k in ("marker", "her2", "cep17") if names[k]]
        numeric += list((names["xy"] or ())[:2]) + list((names["distance"] or ())[:1])
        wanted = [names[k] for k in ("image", "region", "class") if names[k]] + numeric
        wanted = list(dict.fromkeys(wanted))
        if not wanted:
            raise InputError(
                "the table has none of the columns ithkit reads", source=p,
                fix="give --marker, or map the columns with --columns",
            )  # fmt: skip
        raw = _read_arrow(p, wanted, numeric, sep, enc)
        default_image = p.name.split(".")[0]
    if len(raw) == 0:
        raise InputError("the table has a header but no cells", source=source,
                         fix="export the detections (not only the annotations)")  # fmt: skip
    frame = _standardise(raw, names, source=source, pixel_size_um=pixel_size_um,
                         default_image=default_image)  # fmt: skip
    return to_anndata(frame) if as_anndata else frame


def to_anndata(cells: pd.DataFrame) -> AnnData:
    """The detections frame as spatial AnnData (``.obsm['spatial']`` in µm).

    ``.X`` holds the marker intensity (one variable named after the marker), ``.obs`` the image,
    region and classification, ``.uns['pathology']`` the source and marker. Needs the
    ``[singlecell]`` extra.

    Examples
    --------
    >>> import pandas as pd
    >>> cells = pd.DataFrame({"image": ["s"] * 2, "region": ["a", "b"], "intensity": [0.1, 0.5],
    ...                       "x_um": [0.0, 10.0], "y_um": [0.0, 0.0]})
    >>> a = to_anndata(cells)
    >>> a.shape, a.obsm["spatial"].shape
    ((2, 1), (2, 2))
    """
    ad = import_optional("anndata", extra="singlecell")
    obs_cols = [c for c in cells.columns if c not in (C.INTENSITY, C.X_UM, C.Y_UM)]
    obs = cells[obs_cols].copy()
    for c in (C.IMAGE, C.REGION, C.CLASS):
        if c in obs and not isinstance(obs[c].dtype, pd.CategoricalDtype):
            obs[c] = obs[c].astype("category")
    obs.index = pd.Index([str(i) for i in range(len(cells))])
    marker = str(cells.attrs.get("marker") or "intensity")
    if C.INTENSITY in cells:
        x = cells[C.INTENSITY].to_numpy(dtype=np.float32)[:, None]
    else:
        x = np.zeros((len(cells), 0), dtype=np.float32)
    var = pd.DataFrame(index=pd.Index([marker] if x.shape[1] else [], dtype=str))
    adata = ad.AnnData(X=x, obs=obs, var=var)
    if C.X_UM in cells and C.Y_UM in cells:
        adata.obsm["spatial"] = cells[[C.X_UM, C.Y_UM]].to_numpy(dtype=float)
    adata.uns["pathology"] = {
        "marker": marker, "source": str(cells.attrs.get("source", "")),
        "n_missing": int(cells.attrs.get("n_missing", 0)),
    }  # fmt: skip
    return adata
