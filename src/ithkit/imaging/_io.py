"""Image and mask readers (NIfTI, NRRD, DICOM series, DICOM-SEG, RTSTRUCT) and geometry checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ithkit._errors import InputError
from ithkit._optional import import_optional


@dataclass(frozen=True)
class Volume:
    """A 3D image on a grid.

    ``array`` is in (z, y, x) order; ``spacing``, ``origin`` are (x, y, z) in mm as in
    SimpleITK/DICOM; ``direction`` the 9 direction cosines (row-major 3x3).
    """

    array: NDArray[Any]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: tuple[float, ...]
    source: str = ""

    @property
    def spacing_zyx(self) -> tuple[float, float, float]:
        """Spacing in array order (z, y, x), mm."""
        return (self.spacing[2], self.spacing[1], self.spacing[0])

    def index_to_world(self, idx_zyx: NDArray[np.float64]) -> NDArray[np.float64]:
        """World coordinates (x, y, z mm) of array indices (n, 3) in (z, y, x) order."""
        ijk = np.asarray(idx_zyx, dtype=float)[:, ::-1] * np.asarray(self.spacing)
        return ijk @ np.asarray(self.direction).reshape(3, 3).T + np.asarray(self.origin)


def _sitk() -> Any:
    return import_optional("SimpleITK", extra="imaging")


def _from_sitk(img: Any, source: str) -> Volume:
    sitk = _sitk()
    return Volume(
        array=sitk.GetArrayFromImage(img),
        spacing=tuple(float(v) for v in img.GetSpacing()),  # type: ignore[arg-type]
        origin=tuple(float(v) for v in img.GetOrigin()),  # type: ignore[arg-type]
        direction=tuple(float(v) for v in img.GetDirection()),
        source=source,
    )


def to_sitk(volume: Volume) -> Any:
    """The volume as a SimpleITK image (same geometry)."""
    sitk = _sitk()
    img = sitk.GetImageFromArray(volume.array)
    img.SetSpacing(volume.spacing)
    img.SetOrigin(volume.origin)
    img.SetDirection(volume.direction)
    return img


def write_volume(volume: Volume, path: str | Path) -> None:
    """Write a volume as NIfTI/NRRD (by extension), atomically."""
    from ithkit._atomic import atomic_path

    sitk = _sitk()
    p = Path(path)
    suffix = "".join(p.suffixes[-2:]) if p.name.endswith(".nii.gz") else p.suffix
    with atomic_path(p, suffix=suffix) as tmp:
        sitk.WriteImage(to_sitk(volume), str(tmp))


def _suv_factor(ds: Any, source: str, kind: str = "bw") -> float:
    """SUV factor of a PET DICOM header (kept for callers of the old name)."""
    from ithkit.imaging._suv import suv_scale_factor

    return suv_scale_factor(ds, kind=kind, source=source)


def _acquisition_times(pydicom: Any, files: list[str]) -> list[Any]:
    from ithkit.imaging._suv import parse_dicom_datetime

    out = []
    for f in files:
        d = pydicom.dcmread(
            f, stop_before_pixels=True, specific_tags=["AcquisitionDate", "AcquisitionTime"]
        )
        out.append(
            parse_dicom_datetime(
                str(d.get("AcquisitionDate", "") or ""), str(d.get("AcquisitionTime", "") or "")
            )
        )
    return out


def read_image(path: str | Path, *, suv: bool | str = True) -> Volume:
    """Read an image: NIfTI/NRRD/MHA file, or a folder holding one DICOM series.

    DICOM intensities get RescaleSlope/RescaleIntercept (CT in HU). A PET series (Modality PT)
    becomes SUV as ``suv`` says (see :func:`ithkit.imaging.suv_scale_factor`).

    Parameters
    ----------
    path
        Image file or DICOM series folder.
    suv
        PET normalisation: ``"bw"`` (body weight, g/ml; also ``True``, the default), ``"lbm"``
        (lean body mass, SUL, Janmahasatian; g/ml), ``"lbm-james"``, ``"bsa"`` (body surface
        area, Du Bois; cm²/ml), or ``False`` / ``"none"`` (Bq/ml as stored). Ignored for other
        modalities and for NIfTI/NRRD files.

    Returns
    -------
    Volume
        float64 for DICOM series, the file's type otherwise.

    Raises
    ------
    ithkit.InputError
        Missing file, unreadable image, a folder without a DICOM series, an unknown ``suv``,
        a PET header that cannot give the SUV asked for (a missing or implausible field, named).

    Examples
    --------
    >>> read_image("missing.nii.gz")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ithkit._errors.InputError: missing.nii.gz: image not found...
    """
    from ithkit.imaging._suv import normalise_suv_kind, suv_scale_factor

    kind = normalise_suv_kind(suv, source="suv")
    sitk = _sitk()
    p = Path(path)
    if not p.exists():
        raise InputError("image not found", source=p, fix="check the path")
    if p.is_dir():
        reader = sitk.ImageSeriesReader()
        ids = reader.GetGDCMSeriesIDs(str(p))
        if not ids:
            raise InputError("no DICOM series in this folder", source=p)
        files = reader.GetGDCMSeriesFileNames(str(p), ids[0])
        reader.SetFileNames(files)
        try:
            img = reader.Execute()  # applies rescale slope/intercept
        except RuntimeError as exc:
            raise InputError(f"cannot read DICOM series: {exc}".splitlines()[0], source=p) from exc
        vol = _from_sitk(sitk.Cast(img, sitk.sitkFloat64), str(p))
        pydicom = import_optional("pydicom", extra="dicom")
        ds = pydicom.dcmread(files[0], stop_before_pixels=True)
        if kind is not None and str(ds.get("Modality", "")) == "PT":
            factor = suv_scale_factor(
                ds, kind=kind, source=str(p), acquisition_times=_acquisition_times(pydicom, files)
            )
            vol = Volume(vol.array * factor, vol.spacing, vol.origin, vol.direction, vol.source)
        return vol
    try:
        img = sitk.ReadImage(str(p))
    except RuntimeError as exc:
        raise InputError(
            "cannot read image (NIfTI, NRRD, MHA or a DICOM folder)", source=p
        ) from exc
    if img.GetDimension() != 3:
        raise InputError(
            f"image has {img.GetDimension()} dimensions", source=p, fix="give a 3D image"
        )
    return _from_sitk(img, str(p))


def _dicom_modality(path: Path) -> str:
    if path.is_dir():
        return ""
    # a DICOM Part-10 file carries "DICM" after its 128-byte preamble: NIfTI/NRRD masks need
    # no pydicom (the [dicom] extra)
    with open(path, "rb") as fh:
        head = fh.read(132)
    if head[128:132] != b"DICM":
        return ""
    pydicom = import_optional("pydicom", extra="dicom")
    try:
        ds = pydicom.dcmread(str(path), stop_before_pixels=True)
    except Exception:  # not a DICOM file: fall through to SimpleITK
        return ""
    return str(ds.get("Modality", ""))


def read_mask(
    path: str | Path, *, reference: Volume | None = None, roi: str | int | None = None
) -> Volume:
    """Read a mask: label image (NIfTI/NRRD), DICOM-SEG or RTSTRUCT file.

    DICOM-SEG and RTSTRUCT need ``reference`` (the image they were drawn on); segments and
    contours become labels 1, 2, ... in file order, or only ``roi`` (name or number) as 1.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("mask not found", source=p, fix="check the path")
    modality = _dicom_modality(p)
    if modality in ("SEG", "RTSTRUCT"):
        if reference is None:
            raise InputError(f"a {modality} mask needs its reference image", source=p)
        if modality == "SEG":
            return _read_seg(p, reference, roi)
        return _read_rtstruct(p, reference, roi)
    vol = read_image(p)
    check_labels(vol.array, source=str(p))
    return vol


#: a label image holds at most this many distinct labels (TotalSegmentator has 117)
MAX_MASK_LABELS = 1000


def check_labels(array: NDArray[Any], *, source: str) -> None:
    """Refuse a "mask" that is an image: negative, fractional or too many distinct values.

    Examples
    --------
    >>> check_labels(np.array([0, 1, 1, 2]), source="m.nii.gz")
    >>> check_labels(np.array([-1000.0, 40.5, 12.0]), source="ct.nii.gz")
    Traceback (most recent call last):
    ...
    ithkit._errors.InputError: ct.nii.gz: this is not a mask: ...
    """
    a = np.asarray(array)
    finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a
    why = ""
    if finite.size != a.size:
        why = "it holds NaN or infinite values"
    elif finite.size and float(finite.min()) < 0:
        why = f"it holds negative values (min {float(finite.min()):g})"
    elif a.dtype.kind == "f" and bool((finite % 1 != 0).any()):
        why = "it holds fractional values"
    else:
        n = np.unique(finite).size
        if n > MAX_MASK_LABELS + 1:
            why = f"it holds {n:,} distinct values"
    if why:
        raise InputError(
            f"this is not a mask: {why}; a mask is a few integer labels (0 = background)",
            source=source,
            fix="did you swap image and mask? the image comes first: "
            "ithkit imaging features IMAGE MASK",
        )


def _read_seg(path: Path, ref: Volume, roi: str | int | None) -> Volume:
    hd = import_optional("highdicom", extra="dicom")
    seg = hd.seg.segread(str(path))
    nz, ny, nx = (int(v) for v in ref.array.shape)
    out = np.zeros((nz, ny, nx), dtype=np.int16)
    numbers = list(seg.segment_numbers)
    if roi is not None:
        numbers = [
            n
            for n in numbers
            if n == roi or str(seg.get_segment_description(n).segment_label) == str(roi)
        ]
        if not numbers:
            raise InputError(f"segment {roi!r} not in the DICOM-SEG", source=path)
    inv = np.linalg.inv(np.asarray(ref.direction).reshape(3, 3))
    arr = np.asarray(seg.pixel_array)  # (frames, rows, cols)
    if arr.ndim == 2:
        arr = arr[None]
    frames = seg.PerFrameFunctionalGroupsSequence
    shared = seg.SharedFunctionalGroupsSequence[0]

    def item(fg: Any, name: str) -> Any:
        return getattr(fg, name, None) or getattr(shared, name)

    for label, number in enumerate(numbers, start=1):
        for f, fg in enumerate(frames):
            ident = item(fg, "SegmentIdentificationSequence")[0]
            if int(ident.ReferencedSegmentNumber) != number:
                continue
            plane = item(fg, "PlanePositionSequence")[0]
            pos = np.asarray(plane.ImagePositionPatient, dtype=float)
            k = (inv @ (pos - np.asarray(ref.origin)))[2] / ref.spacing[2]
            z = round(float(k))
            if 0 <= z < nz:
                plane = arr[f] if arr.ndim == 3 else arr[f, ..., 0]
                out[z][plane > 0] = label
    return Volume(out, ref.spacing, ref.origin, ref.direction, str(path))


def _read_rtstruct(path: Path, ref: Volume, roi: str | int | None) -> Volume:
    """Rasterise RTSTRUCT contours onto the reference grid (even-odd polygon fill per slice)."""
    pydicom = import_optional("pydicom", extra="dicom")
    ds = pydicom.dcmread(str(path))
    names = {int(r.ROINumber): str(r.ROIName) for r in ds.StructureSetROISequence}
    nz, ny, nx = (int(v) for v in ref.array.shape)
    out = np.zeros((nz, ny, nx), dtype=np.int16)
    inv = np.linalg.inv(np.asarray(ref.direction).reshape(3, 3))
    rois = list(ds.ROIContourSequence)
    if roi is not None:
        rois = [
            r
            for r in rois
            if str(r.ReferencedROINumber) == str(roi)
            or names.get(int(r.ReferencedROINumber)) == roi
        ]
        if not rois:
            raise InputError(
                f"ROI {roi!r} not in the RTSTRUCT",
                source=path,
                fix=f"one of {sorted(names.values())}",
            )
    yy, xx = np.mgrid[0:ny, 0:nx]
    for label, item in enumerate(rois, start=1):
        for contour in getattr(item, "ContourSequence", []):
            pts = np.asarray(contour.ContourData, dtype=float).reshape(-1, 3)
            ijk = (pts - np.asarray(ref.origin)) @ inv.T / np.asarray(ref.spacing)
            z = round(float(np.median(ijk[:, 2])))
            if not 0 <= z < nz:
                continue
            inside = polygon_mask(ijk[:, 1], ijk[:, 0], yy, xx)
            # even-odd: a contour inside another contour of the same ROI is a hole
            out[z] = np.where(inside, np.where(out[z] == label, 0, label), out[z])
    return Volume(out, ref.spacing, ref.origin, ref.direction, str(path))


def polygon_mask(
    py: NDArray[np.float64], px: NDArray[np.float64], yy: NDArray[Any], xx: NDArray[Any]
) -> NDArray[np.bool_]:
    """Voxel centres (yy, xx) inside the polygon (py, px), by the crossing-number rule.

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = np.mgrid[0:5, 0:5]
    >>> m = polygon_mask(np.array([0.5, 0.5, 3.5, 3.5]), np.array([0.5, 3.5, 3.5, 0.5]), yy, xx)
    >>> int(m.sum())
    9
    """
    inside = np.zeros(yy.shape, dtype=bool)
    n = len(px)
    for i in range(n):
        y0, x0, y1, x1 = py[i], px[i], py[(i + 1) % n], px[(i + 1) % n]
        if y0 == y1:
            continue
        cond = (yy >= min(y0, y1)) & (yy < max(y0, y1))
        xcross = x0 + (yy - y0) * (x1 - x0) / (y1 - y0)
        inside ^= cond & (xx < xcross)
    return inside


def check_geometry(image: Volume, mask: Volume, *, tol: float = 1e-3) -> None:
    """Raise InputError unless image and mask share size, spacing, origin and direction."""
    src = mask.source or "mask"
    if image.array.shape != mask.array.shape:
        raise InputError(
            f"mask size {mask.array.shape[::-1]} differs from image size {image.array.shape[::-1]}",
            source=src,
            fix="the mask must be drawn on the image grid (resample it to the image)",
        )
    for what, a, b in (
        ("spacing", image.spacing, mask.spacing),
        ("origin", image.origin, mask.origin),
        ("direction", image.direction, mask.direction),
    ):
        if not np.allclose(a, b, atol=tol):
            raise InputError(
                f"mask {what} {tuple(round(v, 4) for v in b)} differs from image {what} "
                f"{tuple(round(v, 4) for v in a)}",
                source=src,
                fix="the mask must be drawn on the image grid (resample it to the image)",
            )


def roi_from_mask(mask: Volume, label: int | None = None) -> NDArray[np.bool_]:
    """Boolean ROI: voxels equal to ``label``, or every non-zero voxel when ``label`` is None."""
    arr = np.asarray(mask.array)
    src = mask.source or "mask"
    if label is None:
        roi = arr > 0
    else:
        present = np.unique(arr[arr > 0]).astype(int).tolist()
        if label not in present:
            raise InputError(
                f"label {label} is not in the mask", source=src, fix=f"labels present: {present}"
            )
        roi = arr == label
    if not roi.any():
        raise InputError("the ROI is empty", source=src, fix="check the mask and the label")
    return roi
