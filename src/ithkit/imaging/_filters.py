"""IBSI-2 convolutional filters: mean, LoG, Laws, Gabor, separable wavelets, Simoncelli, Riesz.

Definitions follow the IBSI reference manual for convolutional filters (Depeursinge et al.,
arXiv:2006.05470). Lengths given in mm (``sigma_mm``, ``wavelength_mm``) are converted to
voxels with the in-plane spacing; response maps stay on the image grid (array order z, y, x).
Separable kernels run as 1D passes (``scipy.ndimage``), the others as FFT products on the
padded volume, so every filter is vectorised over the whole image.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ithkit._errors import InputError
from ithkit._optional import import_optional
from ithkit.imaging._io import Volume

FILTERS = ("mean", "log", "laws", "gabor", "wavelet", "simoncelli", "riesz")
BOUNDARIES = ("constant", "nearest", "periodic", "mirror")
_NDIMAGE_MODE = {
    "constant": "constant",
    "nearest": "nearest",
    "periodic": "wrap",
    "mirror": "reflect",
}
_NUMPY_PAD = {"constant": "constant", "nearest": "edge", "periodic": "wrap", "mirror": "symmetric"}

# Laws 1D kernels, normalised to unit L2 norm as in the IBSI-2 manual (table of Laws kernels)
_LAWS = {
    "L3": np.array([1.0, 2.0, 1.0]) / math.sqrt(6),
    "E3": np.array([-1.0, 0.0, 1.0]) / math.sqrt(2),
    "S3": np.array([-1.0, 2.0, -1.0]) / math.sqrt(6),
    "L5": np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / math.sqrt(70),
    "E5": np.array([-1.0, -2.0, 0.0, 2.0, 1.0]) / math.sqrt(10),
    "S5": np.array([-1.0, 0.0, 2.0, 0.0, -1.0]) / math.sqrt(6),
    "W5": np.array([-1.0, 2.0, 0.0, -2.0, 1.0]) / math.sqrt(10),
    "R5": np.array([1.0, -4.0, 6.0, -4.0, 1.0]) / math.sqrt(70),
}


@dataclass(frozen=True)
class FilterSpec:
    """Settings of one IBSI-2 filter (validated by :meth:`check`).

    Parameters
    ----------
    filter
        ``mean, log, laws, gabor, wavelet, simoncelli, riesz``.
    dims
        3 (volumetric kernel) or 2 (kernel in the axial plane, slice by slice).
    boundary
        Padding: ``constant`` (zeros), ``nearest``, ``periodic`` or ``mirror`` (symmetric).
    size
        Mean filter support in voxels (odd).
    sigma_mm
        LoG / Gabor scale in mm.
    truncate
        Kernel half-width in units of sigma; None: 4 for LoG (IBSI), 7 for Gabor (the
        support that reproduces the IBSI reference maps).
    laws_kernel
        Laws kernel name, one 1D kernel per axis in x, y(, z) order, e.g. ``E5L5S5``.
    energy_distance
        Laws energy map: Chebyshev distance (voxels) of the averaging window; None: no energy.
    rotation_invariant, pooling
        Pool the responses of the rotated kernels (3D: the 24 right-angle rotations; 2D: 4;
        Gabor: orientations ``theta_step_deg`` apart) with ``max``, ``mean`` or ``min``.
    wavelength_mm, gamma, theta_deg, theta_step_deg, orthogonal_planes
        Gabor wavelength (mm), spatial aspect ratio, orientation; with ``orthogonal_planes``
        the 2D filter is applied in the three orthogonal planes and the responses averaged.
    wavelet, subband, level
        Separable wavelet family (PyWavelets name: ``haar, db2, coif1``, ...), sub-band letters
        in x, y(, z) order (``LHL``), decomposition level (undecimated, a trous).
    decimated
        Wavelet only: the decimated transform (``pywt.dwtn`` per level, as ``pywt.wavedecn``)
        instead of the a trous one; each voxel takes the coefficient whose support it is in
        (a block of 2^level voxels per axis), so the response stays on the image grid.
    riesz_order, riesz_base
        Riesz transform order (one integer per axis in x, y(, z) order) applied to the output
        of ``riesz_base`` (``log`` or ``simoncelli``).

    Examples
    --------
    >>> FilterSpec(filter="log", sigma_mm=3.0).tag
    'log_s3mm_3d'
    """

    filter: str
    dims: int = 3
    boundary: str = "mirror"
    size: int = 5
    sigma_mm: float | None = None
    truncate: float | None = None
    laws_kernel: str | None = None
    energy_distance: int | None = None
    rotation_invariant: bool = False
    pooling: str = "max"
    wavelength_mm: float | None = None
    gamma: float = 1.0
    theta_deg: float = 0.0
    theta_step_deg: float | None = None
    orthogonal_planes: bool = False
    wavelet: str = "haar"
    subband: str | None = None
    level: int = 1
    riesz_order: tuple[int, ...] | None = None
    riesz_base: str = "log"
    decimated: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tag(self) -> str:
        """Short name of the response map, used in feature tables and file names."""
        f = self.filter
        parts = [f]
        if f == "mean":
            parts.append(f"m{self.size}")
        elif f == "log":
            parts.append(f"s{self.sigma_mm:g}mm")
        elif f == "laws":
            parts.append(str(self.laws_kernel))
            if self.energy_distance is not None:
                parts.append(f"energy{self.energy_distance}")
        elif f == "gabor":
            parts.append(f"s{self.sigma_mm:g}mm_l{self.wavelength_mm:g}mm_g{self.gamma:g}")
        elif f == "wavelet":
            parts.append(f"{self.wavelet}_{self.subband}_level{self.level}")
            if self.decimated:
                parts.append("decimated")
        elif f == "simoncelli":
            parts.append(f"level{self.level}")
        elif f == "riesz":
            order = "".join(str(v) for v in (self.riesz_order or ()))
            parts.append(f"{self.riesz_base}_order{order}")
        if self.rotation_invariant:
            parts.append(f"invar_{self.pooling}")
        parts.append(f"{self.dims}d")
        return "_".join(parts)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "filters") -> FilterSpec:
        """A spec from a mapping (YAML entry), keys named as the fields; checked."""
        if not isinstance(data, dict) or "filter" not in data:
            raise InputError(
                "a filter entry must be a mapping with a 'filter' key",
                source=source,
                fix=f"e.g. {{filter: log, sigma_mm: 3}}; filters: {', '.join(FILTERS)}",
            )
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(
                f"unknown filter setting {unknown[0]!r}",
                source=source,
                fix=f"known settings: {', '.join(sorted(known))}",
            )
        values = dict(data)
        if values.get("riesz_order") is not None:
            values["riesz_order"] = tuple(int(v) for v in values["riesz_order"])
        return cls(**values).check(source=source)

    def to_dict(self) -> dict[str, Any]:
        """The settings as a plain mapping (for the YAML written next to the output)."""
        out = {k: v for k, v in asdict(self).items() if k != "extra"}
        if out["riesz_order"] is not None:
            out["riesz_order"] = list(out["riesz_order"])
        return out

    def check(self, *, source: str = "filter") -> FilterSpec:
        """Validate the settings; returns self or raises InputError naming the setting."""

        def bad(what: str, fix: str) -> InputError:
            return InputError(what, source=source, fix=fix)

        if self.filter not in FILTERS:
            raise bad(f"unknown filter {self.filter!r}", f"one of {', '.join(FILTERS)}")
        if self.boundary not in BOUNDARIES:
            raise bad(f"unknown boundary {self.boundary!r}", f"one of {', '.join(BOUNDARIES)}")
        if self.dims not in (2, 3):
            raise bad(f"dims is {self.dims}", "2 (axial slices) or 3 (volume)")
        if self.pooling not in ("max", "mean", "min"):
            raise bad(f"unknown pooling {self.pooling!r}", "max, mean or min")
        f = self.filter
        if f == "mean" and (self.size < 1 or self.size % 2 == 0):
            raise bad(f"mean filter size is {self.size}", "an odd number of voxels >= 1")
        needs_sigma = f in ("log", "gabor") or (f == "riesz" and self.riesz_base == "log")
        if needs_sigma and (self.sigma_mm is None or not self.sigma_mm > 0):
            raise bad(f"{f} needs sigma_mm > 0 (got {self.sigma_mm})", "set --sigma-mm in mm")
        if f == "laws":
            names = _laws_names(self.laws_kernel)
            if names is None or len(names) != self.dims:
                raise bad(
                    f"laws_kernel {self.laws_kernel!r} is not {self.dims} Laws kernels",
                    f"e.g. {'E5L5S5' if self.dims == 3 else 'L5S5'} from {', '.join(_LAWS)}",
                )
            if self.energy_distance is not None and self.energy_distance < 0:
                raise bad("energy_distance is negative", "a Chebyshev distance >= 0 voxels")
        if f == "gabor":
            if self.wavelength_mm is None or not self.wavelength_mm > 0:
                raise bad("gabor needs wavelength_mm > 0", "set wavelength_mm in mm")
            if not self.gamma > 0:
                raise bad(f"gabor gamma is {self.gamma}", "a spatial aspect ratio > 0")
        if f == "wavelet":
            letters = self.subband or ""
            if len(letters) != self.dims or set(letters) - {"L", "H"}:
                raise bad(
                    f"wavelet subband {self.subband!r} is not {self.dims} letters L/H",
                    "e.g. LHL (x, y, z order)",
                )
        if self.decimated and f != "wavelet":
            raise bad(f"decimated is a wavelet setting, not {f}'s", "drop decimated")
        if f in ("wavelet", "simoncelli", "riesz") and self.level < 1:
            raise bad(f"level is {self.level}", "a decomposition level >= 1")
        if f == "riesz":
            if self.riesz_base not in ("log", "simoncelli"):
                raise bad(f"riesz_base is {self.riesz_base!r}", "log or simoncelli")
            order = self.riesz_order
            if order is None or len(order) != self.dims or any(v < 0 for v in order):
                raise bad(
                    f"riesz_order {order} is not {self.dims} integers >= 0",
                    "e.g. [1, 0, 0] (x, y, z order)",
                )
        return self


def _truncate(spec: FilterSpec) -> float:
    if spec.truncate is not None:
        return float(spec.truncate)
    return 7.0 if spec.filter == "gabor" else 4.0


def _laws_names(kernel: str | None) -> list[str] | None:
    if not kernel:
        return None
    parts = [kernel[i : i + 2].upper() for i in range(0, len(kernel), 2)]
    if len(kernel) % 2 or any(p not in _LAWS for p in parts):
        return None
    return parts


# ---------------------------------------------------------------------------------------------
# helpers


def _voxels(length_mm: float, spacing_mm: float) -> float:
    return float(length_mm) / float(spacing_mm)


def _axes(dims: int) -> tuple[int, ...]:
    """Array axes filtered: (z, y, x) for 3D, (y, x) for 2D (slice by slice)."""
    return (0, 1, 2) if dims == 3 else (1, 2)


def _separable(
    arr: NDArray[np.float64], kernels: dict[int, NDArray[np.float64]], boundary: str
) -> NDArray[np.float64]:
    """Convolve with one 1D kernel per array axis (true convolution, IBSI)."""
    ndi = import_optional("scipy.ndimage", extra="imaging")
    out = arr
    for axis, k in kernels.items():
        out = ndi.convolve1d(out, k, axis=axis, mode=_NDIMAGE_MODE[boundary], cval=0.0)
    return out


def _pad(arr: NDArray[Any], pad: dict[int, int], boundary: str) -> NDArray[Any]:
    width = [(pad.get(a, 0), pad.get(a, 0)) for a in range(arr.ndim)]
    if boundary in ("periodic", "mirror"):
        # np.pad wraps/reflects once per call; pad in steps when the pad exceeds the axis length
        out = arr
        for a in range(arr.ndim):
            p = pad.get(a, 0)
            while p > 0:
                step = min(p, out.shape[a])
                w = [(0, 0)] * arr.ndim
                w[a] = (step, step)
                out = np.pad(out, w, mode=_NUMPY_PAD[boundary])  # type: ignore[call-overload]
                p -= step
        return out
    return np.pad(arr, width, mode=_NUMPY_PAD[boundary])  # type: ignore[call-overload]


def _crop(arr: NDArray[Any], pad: dict[int, int]) -> NDArray[Any]:
    sl = tuple(slice(pad.get(a, 0), arr.shape[a] - pad.get(a, 0)) for a in range(arr.ndim))
    return arr[sl]


def _fft_filter(
    arr: NDArray[np.float64],
    transfer: Any,
    axes: tuple[int, ...],
    boundary: str,
    pad: int,
) -> NDArray[Any]:
    """Multiply the spectrum of the padded image by ``transfer(freqs)``; crop back.

    Frequencies (radians per voxel) are those of the IBSI reference implementation: N points
    evenly spread over [-pi, pi] (both ends included), moved to the FFT layout.
    """
    pads = {a: (0 if boundary == "periodic" else pad) for a in axes}
    padded = _pad(arr, pads, boundary) if any(pads.values()) else arr
    shape = [padded.shape[a] for a in axes]
    # angular frequency in radians per voxel, in [-pi, pi)
    grids = np.meshgrid(*[_ibsi_freqs(n) for n in shape], indexing="ij")
    h = transfer(grids)
    spec = np.fft.fftn(padded, axes=axes)
    expand = [None] * padded.ndim
    for _i, a in enumerate(axes):
        expand[a] = slice(None)  # type: ignore[call-overload]
    h_full = h.reshape([padded.shape[a] if a in axes else 1 for a in range(padded.ndim)])
    out = np.fft.ifftn(spec * h_full, axes=axes)
    return _crop(out, pads)


def _ibsi_freqs(n: int) -> NDArray[np.float64]:
    if n == 1:
        return np.zeros(1)
    centre = (n - 1) / 2.0
    return np.asarray(np.fft.ifftshift(np.pi * (np.arange(n) - centre) / centre))


def _rotations(dims: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Right-angle rotations as (permutation, signs): new axis i takes old axis perm[i]."""
    rots = []
    for perm in itertools.permutations(range(dims)):
        for signs in itertools.product((1, -1), repeat=dims):
            m = np.zeros((dims, dims))
            for i, (p, s) in enumerate(zip(perm, signs, strict=True)):
                m[i, p] = s
            if round(float(np.linalg.det(m))) == 1:
                rots.append((perm, signs))
    return rots


def _pool(stack: list[NDArray[np.float64]], pooling: str) -> NDArray[np.float64]:
    arr = np.stack(stack)
    if pooling == "max":
        return np.asarray(arr.max(axis=0))
    if pooling == "min":
        return np.asarray(arr.min(axis=0))
    return np.asarray(arr.mean(axis=0))


# ---------------------------------------------------------------------------------------------
# the filters (each takes the float64 array, voxel spacing (z, y, x) in mm and the spec)


def _mean(arr: NDArray[np.float64], spacing: tuple[float, ...], spec: FilterSpec) -> Any:
    k = np.full(spec.size, 1.0 / spec.size)
    return _separable(arr, {a: k for a in _axes(spec.dims)}, spec.boundary)


def _gauss_1d(sigma_vox: float, truncate: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    half = math.floor(truncate * sigma_vox + 0.5)
    x = np.arange(-half, half + 1, dtype=float)
    return x, np.exp(-(x**2) / (2 * sigma_vox**2)) / (sigma_vox * math.sqrt(2 * math.pi))


def _log(arr: NDArray[np.float64], spacing: tuple[float, ...], spec: FilterSpec) -> Any:
    # LoG(x) = -1/s^2 (1/(s sqrt(2 pi)))^d (d - |x|^2/s^2) exp(-|x|^2/(2 s^2)), on the voxel
    # grid with s = sigma_mm / spacing (voxel units), support 1 + 2 floor(4 s + 0.5): a sum of d
    # separable terms g''(x_i) prod g(x_j)
    axes = _axes(spec.dims)
    out = np.zeros_like(arr)
    gs = {}
    for a in axes:
        s = _voxels(spec.sigma_mm or 0.0, spacing[a])
        x, g = _gauss_1d(s, _truncate(spec))
        gs[a] = (g, g * (x**2 - s**2) / s**4)
    for a in axes:
        kernels = {b: (gs[b][1] if b == a else gs[b][0]) for b in axes}
        out += _separable(arr, kernels, spec.boundary)
    return out


def _laws(arr: NDArray[np.float64], spacing: tuple[float, ...], spec: FilterSpec) -> Any:
    names = _laws_names(spec.laws_kernel) or []
    axes = _axes(spec.dims)
    # kernel letters are in x, y(, z) order; array axes are (z,) y, x
    per_axis = {axes[::-1][i]: _LAWS[n] for i, n in enumerate(names)}
    rots = (
        _rotations(spec.dims)
        if spec.rotation_invariant
        else [(tuple(range(spec.dims)), (1,) * spec.dims)]
    )
    # Laws kernels are symmetric or antisymmetric: flipping one keeps the response or negates
    # it, so each axis permutation is convolved once and its sign-flipped rotations follow
    # exactly (max over +r and -r is |r|; the mean weighs r by the mean sign)
    parity = {}
    for a, k in per_axis.items():
        parity[a] = 1 if np.allclose(k, k[::-1]) else -1 if np.allclose(k, -k[::-1]) else 0
    factors: dict[tuple[int, ...], list[int]] = {}
    for perm, signs in rots:
        f = 1
        for i in range(len(axes)):
            if signs[i] < 0 and parity[axes[perm[i]]] == -1:
                f = -f
        factors.setdefault(perm, []).append(f)
    ndi = import_optional("scipy.ndimage", extra="imaging")
    mode = _NDIMAGE_MODE[spec.boundary]
    first: dict[int, NDArray[np.float64]] = {}
    values = []
    for perm, fs in factors.items():
        src = [axes[perm[i]] for i in range(len(axes))]
        if src[0] not in first:
            first[src[0]] = ndi.convolve1d(arr, per_axis[src[0]], axis=axes[0], mode=mode)
        r = first[src[0]]
        for i in range(1, len(axes)):
            r = ndi.convolve1d(r, per_axis[src[i]], axis=axes[i], mode=mode)
        both = 1 in fs and -1 in fs
        if spec.pooling == "mean":
            values.append(r * float(np.mean(fs)))
        elif both:
            values.append(np.abs(r) if spec.pooling == "max" else -np.abs(r))
        else:
            values.append(r * fs[0])
    out = _pool(values, spec.pooling) if len(values) > 1 else values[0]
    if spec.energy_distance is not None:
        ndi = import_optional("scipy.ndimage", extra="imaging")
        size = [1] * arr.ndim
        for a in axes:
            size[a] = 2 * spec.energy_distance + 1
        out = ndi.uniform_filter(
            np.abs(out), size=size, mode=_NDIMAGE_MODE[spec.boundary], cval=0.0
        )
    return out


def _gabor_plane(
    arr: NDArray[np.float64], axes: tuple[int, int], spacing: tuple[float, ...], spec: FilterSpec
) -> NDArray[np.float64]:
    """Modulus of the 2D Gabor response in the plane (axes[0] = 'y', axes[1] = 'x').

    The padded image's spectrum is computed once; each orientation costs one kernel FFT, one
    product and one inverse FFT. Orientations t and t + 180 degrees give the same modulus on a
    real image (the kernel turns into its complex conjugate), so only t < 180 are computed.
    """
    sfft = import_optional("scipy.fft", extra="imaging")
    s = _voxels(spec.sigma_mm or 0.0, spacing[axes[1]])
    lam = _voxels(spec.wavelength_mm or 0.0, spacing[axes[1]])
    half = math.floor(_truncate(spec) * s + 0.5)
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1].astype(float)
    if spec.rotation_invariant:
        step = spec.theta_step_deg or 45.0
        degrees = spec.theta_deg + np.arange(0.0, 360.0, step)
    else:
        degrees = np.array([spec.theta_deg])
    folded = np.mod(degrees, 180.0)
    unique, counts = np.unique(np.round(folded, 9), return_counts=True)
    kshape = [1] * arr.ndim
    kshape[axes[0]], kshape[axes[1]] = 2 * half + 1, 2 * half + 1
    crop = [slice(None)] * arr.ndim
    periodic = spec.boundary in ("periodic", "constant")
    if spec.boundary == "mirror":
        # one mirror period is 2n per axis; padding costs n + 2 half: take the smaller grid
        periodic = math.prod(2 * arr.shape[a] for a in axes) < math.prod(
            arr.shape[a] + 2 * half for a in axes
        )
    if periodic:
        # the mirror ("symmetric") extension is periodic with period 2n, the periodic one with
        # n: the linear convolution equals a circular one over one period with the kernel
        # folded onto it (exact, and far smaller than padding by the kernel half-width); zero
        # padding needs a period of n + half (the wrapped part then only reads zeros)
        ext = arr
        if spec.boundary == "mirror":
            for a in axes:
                ext = np.concatenate([ext, np.flip(ext, axis=a)], axis=a)
        elif spec.boundary == "constant":
            width = [(0, 0)] * arr.ndim
            for a in axes:
                n_a = arr.shape[a]
                width[a] = (0, sfft.next_fast_len(max(n_a + half, 2 * half + 1)) - n_a)
            ext = np.pad(arr, width)
        size = [ext.shape[a] for a in axes]
        spec_img = sfft.fftn(ext.astype(np.complex64), axes=axes)
        iy = np.mod(yy.astype(int), size[0])
        ix = np.mod(xx.astype(int), size[1])
        kshape[axes[0]], kshape[axes[1]] = size[0], size[1]
        for a in axes:
            crop[a] = slice(0, arr.shape[a])
    else:
        pad = {a: half for a in axes}
        padded = _pad(arr, pad, spec.boundary)
        # a circular convolution of length >= n + 2 half leaves the central n outputs un-aliased
        size = [sfft.next_fast_len(padded.shape[a], real=False) for a in axes]
        # single precision: the FFTs dominate the cost; response error ~1e-6 of its range
        spec_img = sfft.fftn(padded.astype(np.complex64), s=size, axes=axes)
        for a in axes:
            crop[a] = slice(2 * half, 2 * half + arr.shape[a])
    responses = []
    for th in np.deg2rad(unique):
        # IBSI: x' = x cos t + y sin t, y' = -x sin t + y cos t (x: columns, y: rows)
        xr = xx * np.cos(th) + yy * np.sin(th)
        yr = -xx * np.sin(th) + yy * np.cos(th)
        g = np.exp(-(xr**2 + spec.gamma**2 * yr**2) / (2 * s**2)) * np.exp(
            1j * 2 * np.pi * xr / lam
        )
        if periodic:
            kern = np.zeros((size[0], size[1]), dtype=np.complex128)
            np.add.at(kern, (iy, ix), g)
            spec_k = sfft.fftn(kern.reshape(kshape).astype(np.complex64), axes=axes)
        else:
            spec_k = sfft.fftn(g.reshape(kshape).astype(np.complex64), s=size, axes=axes)
        full = sfft.ifftn(spec_img * spec_k, axes=axes)
        responses.append(np.abs(full[tuple(crop)]).astype(np.float64))
    if len(responses) == 1:
        return responses[0]
    if spec.pooling == "mean":
        return np.asarray(sum(c * r for c, r in zip(counts, responses, strict=True)) / counts.sum())
    return _pool(responses, spec.pooling)


def _gabor(arr: NDArray[np.float64], spacing: tuple[float, ...], spec: FilterSpec) -> Any:
    if spec.orthogonal_planes:
        planes: list[tuple[int, int]] = [(1, 2), (0, 2), (0, 1)]
        return np.mean([_gabor_plane(arr, p, spacing, spec) for p in planes], axis=0)
    return _gabor_plane(arr, (1, 2), spacing, spec)


def _wavelet_bank(name: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    pywt = import_optional("pywt", extra="imaging")
    try:
        w = pywt.Wavelet(name)
    except ValueError as exc:
        raise InputError(
            f"unknown wavelet {name!r}", source="wavelet", fix="a PyWavelets name: haar, db2, coif1"
        ) from exc
    return np.asarray(w.dec_lo, dtype=float), np.asarray(w.dec_hi, dtype=float)


def _dilate(k: NDArray[np.float64], level: int) -> NDArray[np.float64]:
    if level == 1:
        return k
    step = 2 ** (level - 1)
    out = np.zeros((len(k) - 1) * step + 1)
    out[::step] = k
    return out


def _centre(k: NDArray[np.float64]) -> NDArray[np.float64]:
    # an even-length filter gets a trailing zero so its support is odd and ndimage centres it
    # as the IBSI reference maps do
    return np.concatenate([k, [0.0]]) if len(k) % 2 == 0 else k


# boundary -> PyWavelets signal extension mode (pywt "constant" repeats the edge value;
# "symmetric" is the half-sample mirror, as numpy's "symmetric" and ndimage's "reflect")
_PYWT_MODE = {
    "constant": "zero",
    "nearest": "constant",
    "periodic": "periodic",
    "mirror": "symmetric",
}


def _pywt_key(spec: FilterSpec) -> str:
    """pywt.dwtn sub-band key ('a' low, 'd' high) in array-axis order of the filtered axes."""
    return "".join("a" if c == "L" else "d" for c in (spec.subband or "")[::-1])


def _decimated_levels(arr: NDArray[np.float64], spec: FilterSpec) -> NDArray[np.float64]:
    """The decimated sub-band: ``pywt.dwtn`` approximations for levels < L, then the sub-band."""
    pywt = import_optional("pywt", extra="imaging")
    axes = _axes(spec.dims)
    out = arr
    for lev in range(1, spec.level + 1):
        key = _pywt_key(spec) if lev == spec.level else "a" * len(axes)
        out = pywt.dwtn(out, spec.wavelet, mode=_PYWT_MODE[spec.boundary], axes=axes)[key]
    return np.asarray(out, dtype=np.float64)


def _coefficient_index(n: int, level: int, filter_length: int) -> NDArray[np.intp]:
    """For each of n voxels, the level-``level`` coefficient whose support it lies in.

    pywt's dwt gives ``c[k] = sum_j f[j] x[2k + 1 - j]``: coefficient k covers input samples
    2k - s and 2k - s + 1 at the centre of its support, s = F/2 - 1 (F: filter length), so
    sample i belongs to k = floor((i + s) / 2); applied level by level.
    """
    s = filter_length // 2 - 1
    idx = np.arange(n)
    for _ in range(level):
        idx = (idx + s) // 2
    return idx


def _decimated_on_grid(arr: NDArray[np.float64], spec: FilterSpec) -> NDArray[np.float64]:
    coef = _decimated_levels(arr, spec)
    length = len(_wavelet_bank(spec.wavelet)[0])
    index = []
    for a in range(arr.ndim):
        shape = [1] * arr.ndim
        shape[a] = arr.shape[a]
        idx = (
            _coefficient_index(arr.shape[a], spec.level, length)
            if a in _axes(spec.dims)
            else np.arange(arr.shape[a])
        )
        index.append(idx.reshape(shape))
    return np.asarray(coef[tuple(index)])


def _decimated_wavelet(arr: NDArray[np.float64], spec: FilterSpec) -> NDArray[np.float64]:
    """Decimated sub-band mapped to the grid; rotation invariance rotates the image (every
    right-angle rotation), filters it and rotates the response back, then pools."""
    if not spec.rotation_invariant:
        return _decimated_on_grid(arr, spec)
    axes = _axes(spec.dims)
    responses = []
    for perm, signs in _rotations(spec.dims):
        order = list(range(arr.ndim))
        for i, a in enumerate(axes):
            order[a] = axes[perm[i]]
        flips = tuple(a for i, a in enumerate(axes) if signs[i] < 0)
        rotated = (
            np.flip(np.transpose(arr, order), axis=flips) if flips else np.transpose(arr, order)
        )
        resp = _decimated_on_grid(np.ascontiguousarray(rotated), spec)
        if flips:
            resp = np.flip(resp, axis=flips)
        responses.append(np.transpose(resp, np.argsort(order)))
    return _pool(responses, spec.pooling)


def wavelet_coefficients(volume: Volume, spec: FilterSpec | None = None, **settings: Any) -> Volume:
    """The decimated wavelet sub-band on its own grid (spacing doubled per level).

    The coefficients are ``pywt.dwtn``'s (the approximation of each level < ``level``, then the
    sub-band), i.e. ``pywt.wavedecn(...)[1][key]`` for ``level`` levels. The origin is the
    centre of the first coefficient's support (``(F − 2)/2`` samples before each level's first
    sample, F the filter length), so the grid lies on the image in world coordinates.

    Parameters
    ----------
    volume
        The image.
    spec
        A wavelet :class:`FilterSpec` (``decimated`` is implied), or its settings as keywords.

    Returns
    -------
    Volume
        float64 coefficients; spacing ``spacing · 2^level`` on the filtered axes.

    Examples
    --------
    >>> import numpy as np
    >>> from ithkit.imaging import Volume
    >>> eye = (1, 0, 0, 0, 1, 0, 0, 0, 1)
    >>> v = Volume(np.ones((4, 4, 4)), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), eye)
    >>> c = wavelet_coefficients(v, filter="wavelet", wavelet="haar", subband="LLL", level=1)
    >>> c.array.shape, round(float(c.array[0, 0, 0]), 6), c.spacing, c.origin
    ((2, 2, 2), 2.828427, (2.0, 2.0, 2.0), (0.5, 0.5, 0.5))
    """
    if spec is None:
        spec = FilterSpec.from_dict({"filter": "wavelet", **settings}, source="wavelet")
    spec = replace(spec, decimated=True).check()
    if spec.filter != "wavelet":
        raise InputError(f"{spec.filter} has no decimated coefficients", source="filter",
                         fix="filter: wavelet")  # fmt: skip
    coef = _decimated_levels(np.asarray(volume.array, dtype=np.float64), spec)
    s = len(_wavelet_bank(spec.wavelet)[0]) // 2 - 1
    # centre of coefficient 0 at level L in input samples: c_{l-1} = 2 c_l - s + 0.5
    centre = 0.0
    for _ in range(spec.level):
        centre = 2 * centre - s + 0.5
    spacing = list(volume.spacing)
    offset = [0.0, 0.0, 0.0]
    for a in _axes(spec.dims):
        xyz = 2 - a  # array axis (z, y, x) -> spacing index (x, y, z)
        offset[xyz] = centre * spacing[xyz]
        spacing[xyz] = spacing[xyz] * 2**spec.level
    origin = np.asarray(volume.origin) + np.asarray(volume.direction).reshape(3, 3) @ offset
    return Volume(
        coef,
        tuple(spacing),  # type: ignore[arg-type]
        tuple(float(v) for v in origin),  # type: ignore[arg-type]
        volume.direction,
        volume.source,
    )


def _wavelet(arr: NDArray[np.float64], spacing: tuple[float, ...], spec: FilterSpec) -> Any:
    if spec.decimated:
        return _decimated_wavelet(arr, spec)
    lo, hi = _wavelet_bank(spec.wavelet)
    axes = _axes(spec.dims)
    letters = (spec.subband or "")[::-1]  # to array order
    band = {a: letters[i] for i, a in enumerate(axes)}
    rots = (
        _rotations(spec.dims)
        if spec.rotation_invariant
        else [(tuple(range(spec.dims)), (1,) * spec.dims)]
    )

    def level_kernels(perm: tuple[int, ...], signs: tuple[int, ...], lev: int) -> dict[int, Any]:
        kernels = {}
        for i, a in enumerate(axes):
            if lev < spec.level:
                k = lo
            else:
                k = lo if band[axes[perm[i]]] == "L" else hi
            k = _dilate(_centre(k), lev)
            kernels[a] = k[::-1] if signs[i] < 0 else k
        return kernels

    if spec.rotation_invariant and spec.pooling == "mean":
        # the mean of linear responses is the response of the mean kernel: rotations that share
        # the low-pass stages (same flips) need one 3D convolution with their averaged last-level
        # kernel (exact; the earlier stages keep their own boundary handling)
        groups: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
        for perm, signs in rots:
            key = signs if spec.level > 1 else (1,) * spec.dims
            groups.setdefault(key, []).append(perm)
        sfft = import_optional("scipy.fft", extra="imaging")
        total_spec: Any = None
        size: list[int] | None = None
        shape_pad: tuple[int, ...] = arr.shape
        halves: dict[int, int] = {}
        ndi = import_optional("scipy.ndimage", extra="imaging")
        cache: dict[tuple[int, ...], NDArray[np.float64]] = {}
        for key, perms in groups.items():
            out = arr
            # low-pass stages: the result after axis i of level 1 depends only on the flips of
            # axes 0..i, so groups share those passes
            for lev in range(1, spec.level):
                ks = level_kernels(perms[0], key, lev)
                for i, a in enumerate(axes):
                    memo = (lev, i, *key[: i + 1]) if lev == 1 else (lev, i, *key)
                    if memo not in cache:
                        cache[memo] = ndi.convolve1d(
                            out, ks[a], axis=a, mode=_NDIMAGE_MODE[spec.boundary]
                        )
                    out = cache[memo]
            kernel = None
            # level 1: every (perm, signs) pair in one kernel; level > 1: the group's perms
            pairs = rots if spec.level == 1 else [(p, key) for p in perms]
            for perm, signs in pairs:
                ks = level_kernels(perm, signs, spec.level)
                k3 = np.ones([1] * arr.ndim)
                for a in axes:
                    shape = [1] * arr.ndim
                    shape[a] = len(ks[a])
                    k3 = k3 * ks[a].reshape(shape)
                kernel = k3 if kernel is None else kernel + k3
            assert kernel is not None
            half = {a: kernel.shape[a] // 2 for a in axes}
            padded = _pad(out, half, spec.boundary)
            if size is None:
                # circular length >= padded length keeps the valid part free of wrap-around
                size = [sfft.next_fast_len(padded.shape[a], real=True) for a in axes]
            # the groups' products add up in the Fourier domain: one inverse transform
            prod = sfft.rfftn(padded, s=size, axes=axes) * sfft.rfftn(kernel, s=size, axes=axes)
            total_spec = prod if total_spec is None else total_spec + prod
            shape_pad, halves = padded.shape, half
        assert total_spec is not None
        full = sfft.irfftn(total_spec, s=size, axes=axes)
        crop = [slice(None)] * arr.ndim
        for a in axes:
            crop[a] = slice(2 * halves[a], shape_pad[a])
        return np.asarray(full[tuple(crop)]) / len(rots)
    responses = []
    for perm, signs in rots:
        out = arr
        for lev in range(1, spec.level + 1):
            out = _separable(out, level_kernels(perm, signs, lev), spec.boundary)
        responses.append(out)
    return _pool(responses, spec.pooling) if len(responses) > 1 else responses[0]


def _simoncelli_transfer(level: int) -> Any:
    def h(grids: list[NDArray[np.float64]]) -> NDArray[np.float64]:
        # radius in units of the band's upper edge pi / 2^(level-1); band [1/4, 1]
        r = np.sqrt(sum((g / np.pi) ** 2 for g in grids)) * 2 ** (level - 1)
        out = np.zeros_like(r)
        band = (r >= 0.25) & (r <= 1.0)
        out[band] = np.cos(np.pi / 2 * np.log2(2 * r[band]))
        return out

    return h


def _simoncelli(arr: NDArray[np.float64], spacing: tuple[float, ...], spec: FilterSpec) -> Any:
    axes = _axes(spec.dims)
    pad = 2 ** (spec.level + 2)
    return np.real(_fft_filter(arr, _simoncelli_transfer(spec.level), axes, spec.boundary, pad))


def _riesz(arr: NDArray[np.float64], spacing: tuple[float, ...], spec: FilterSpec) -> Any:
    axes = _axes(spec.dims)
    order = tuple(spec.riesz_order or ())[::-1]  # to array order
    total = sum(order)
    coef = math.sqrt(math.factorial(total) / math.prod(math.factorial(v) for v in order))

    def riesz(grids: list[NDArray[np.float64]]) -> NDArray[Any]:
        r = np.sqrt(sum(g**2 for g in grids))
        r[r == 0] = 1.0
        out = np.full(r.shape, coef * (-1j) ** total, dtype=complex)
        for g, ell in zip(grids, order, strict=True):
            out = out * (g / r) ** ell
        return out

    if spec.riesz_base == "log":
        base = replace(spec, filter="log")
        transfer_base = None
        img = _log(arr, spacing, base)
        s = max(_voxels(spec.sigma_mm or 0.0, spacing[a]) for a in axes)
        pad = math.floor(_truncate(spec) * s + 0.5)
        return np.real(_fft_filter(img, riesz, axes, spec.boundary, pad))
    transfer_base = _simoncelli_transfer(spec.level)

    def both(grids: list[NDArray[np.float64]]) -> NDArray[Any]:
        return np.asarray(transfer_base(grids) * riesz(grids))

    return np.real(_fft_filter(arr, both, axes, spec.boundary, 2 ** (spec.level + 2)))


_IMPL = {
    "mean": _mean,
    "log": _log,
    "laws": _laws,
    "gabor": _gabor,
    "wavelet": _wavelet,
    "simoncelli": _simoncelli,
    "riesz": _riesz,
}


def filter_image(
    volume: Volume,
    spec: FilterSpec | None = None,
    *,
    filter: Literal["mean", "log", "laws", "gabor", "wavelet", "simoncelli", "riesz"] | None = None,
    **settings: Any,
) -> Volume:
    """Response map of one IBSI-2 convolutional filter, on the image grid.

    Parameters
    ----------
    volume
        The image (:class:`ithkit.imaging.Volume`; spacing in mm).
    spec
        A :class:`FilterSpec`; or give ``filter=`` and its settings as keywords
        (``sigma_mm``, ``size``, ``boundary``, ``dims``, ``laws_kernel``, ... see
        :class:`FilterSpec`).
    filter
        Filter name when ``spec`` is None.

    Returns
    -------
    Volume
        float64 response map with the image's spacing, origin and direction.

    Raises
    ------
    ithkit.InputError
        Unknown filter or setting, a missing or implausible value (sigma <= 0, even mean
        support, a Laws kernel of the wrong dimension), a 2D filter on an anisotropic plane.

    Examples
    --------
    >>> import numpy as np
    >>> from ithkit.imaging import Volume
    >>> arr = np.zeros((9, 9, 9)); arr[4, 4, 4] = 27.0
    >>> v = Volume(arr, (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    >>> out = filter_image(v, filter="mean", size=3, boundary="constant")
    >>> float(out.array[3:6, 3:6, 3:6].min()), float(out.array.sum())
    (1.0, 27.0)
    """
    if spec is None:
        if filter is None:
            raise InputError("no filter given", source="filter", fix=f"one of {', '.join(FILTERS)}")
        spec = FilterSpec.from_dict({"filter": filter, **settings}, source="filter")
    else:
        spec.check()
    arr = np.asarray(volume.array, dtype=np.float64)
    if arr.ndim != 3:
        raise InputError(
            f"image has {arr.ndim} dimensions",
            source=volume.source or "image",
            fix="give a 3D image (a single slice as shape (1, rows, columns))",
        )
    spacing = volume.spacing_zyx
    axes = _axes(spec.dims)
    if spec.filter in ("gabor", "simoncelli", "riesz") or spec.rotation_invariant:
        sp = [
            spacing[a]
            for a in ((1, 2) if spec.filter == "gabor" and not spec.orthogonal_planes else axes)
        ]
        if not np.allclose(sp, sp[0], rtol=1e-3):
            raise InputError(
                f"{spec.filter} needs an isotropic grid in the filtered plane/volume; spacing "
                f"(z, y, x) is {tuple(round(v, 4) for v in spacing)} mm",
                source=volume.source or "image",
                fix="resample to isotropic voxels first (config resample_mm)",
            )
    out = _IMPL[spec.filter](arr, spacing, spec)
    return Volume(
        np.asarray(out, dtype=np.float64),
        volume.spacing,
        volume.origin,
        volume.direction,
        volume.source,
    )


# IBSI-2 feature tags of the 18 intensity statistics (reference_values.csv of IBSI-2 phase 2)
IBSI2_TAGS = {
    "mean": "stat_mean",
    "variance": "stat_var",
    "skewness": "stat_skew",
    "kurtosis": "stat_kurt",
    "median": "stat_median",
    "minimum": "stat_min",
    "10th_percentile": "stat_p10",
    "90th_percentile": "stat_p90",
    "maximum": "stat_max",
    "interquartile_range": "stat_iqr",
    "range": "stat_range",
    "mean_absolute_deviation": "stat_mad",
    "robust_mean_absolute_deviation": "stat_rmad",
    "median_absolute_deviation": "stat_medad",
    "coefficient_of_variation": "stat_cov",
    "quartile_coefficient_of_dispersion": "stat_qcod",
    "energy": "stat_energy",
    "root_mean_square": "stat_rms",
}


def read_filter_specs(path: str | Path) -> list[FilterSpec]:
    """Filter specs of a YAML file: ``filters: [{filter: log, sigma_mm: 3}, ...]``.

    Raises
    ------
    ithkit.InputError
        Unreadable file, no ``filters`` list, an unknown filter or setting (entry named).
    """
    import yaml

    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read filter config: {exc}".splitlines()[0], source=p) from exc
    entries = data.get("filters") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise InputError(
            "no 'filters' list in the filter config",
            source=p,
            fix="write filters: [{filter: log, sigma_mm: 3}, {filter: mean, size: 5}]",
        )
    return [
        FilterSpec.from_dict(e, source=f"{p} (filters entry {i + 1})")
        for i, e in enumerate(entries)
    ]


def _support_half(spec: FilterSpec, spacing: tuple[float, ...]) -> int | None:
    """Half-width (voxels) of the region one output voxel depends on; None: the whole image."""
    f = spec.filter
    if f == "mean":
        return spec.size // 2
    if f in ("log", "gabor"):
        s = max(_voxels(spec.sigma_mm or 0.0, spacing[a]) for a in _axes(spec.dims))
        return math.floor(_truncate(spec) * s + 0.5)
    if f == "laws":
        half = max(len(_LAWS[n]) for n in _laws_names(spec.laws_kernel) or []) // 2
        return half + (spec.energy_distance or 0)
    if f == "wavelet" and spec.decimated:
        return None  # the decimation phase depends on the position in the whole image
    if f == "wavelet":
        lo, _ = _wavelet_bank(spec.wavelet)
        length = len(lo) + len(lo) % 2
        return sum((length // 2) * 2 ** (lev - 1) for lev in range(1, spec.level + 1))
    return None  # Fourier-domain filters depend on the whole grid


def _roi_box(roi: NDArray[np.bool_], spacing: tuple[float, ...], spec: FilterSpec) -> Any:
    """Slices of the ROI's bounding box grown by the filter support (exact for finite kernels:
    voxels farther away never reach an ROI voxel; the image edge keeps its padding rule)."""
    half = _support_half(spec, spacing)
    if half is None or spec.boundary == "periodic":  # wrapping reads the far side of the image
        return tuple(slice(None) for _ in range(roi.ndim))
    idx = np.argwhere(roi)
    lo, hi = idx.min(axis=0), idx.max(axis=0) + 1
    out = []
    for a in range(roi.ndim):
        h = half if a in _axes(spec.dims) or spec.orthogonal_planes else 0
        out.append(slice(max(0, int(lo[a]) - h), min(roi.shape[a], int(hi[a]) + h)))
    return tuple(out)


def filtered_features(
    image: Volume,
    mask: Volume,
    specs: list[FilterSpec],
    *,
    config: Any = None,
) -> Any:
    """Intensity statistics of each filter's response map inside the ROI (IBSI-2 phase 2).

    The filter runs on the whole (resampled) image; re-segmentation and the outlier filter of
    ``config`` select ROI voxels on the *original* intensities, as IBSI-2 prescribes; the 18
    IBSI intensity statistics are then computed on the response values of those voxels.

    Parameters
    ----------
    image, mask
        Image and 0/1 ROI on one grid (as :func:`ithkit.imaging._extract.prepare` returns).
    specs
        Filters to apply.
    config
        :class:`ithkit.imaging.FeatureConfig` (re-segmentation range, outlier filter).

    Returns
    -------
    pandas.DataFrame
        ``filter, feature, feature_tag, ibsi_code, family, aggregation, value``: ``filter`` is
        the spec's tag, ``feature_tag`` the IBSI-2 name (``stat_mean``, ``stat_p10``, ...).

    Examples
    --------
    >>> import numpy as np
    >>> from ithkit.imaging import Volume
    >>> arr = np.arange(512, dtype=float).reshape(8, 8, 8)
    >>> geo = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    >>> t = filtered_features(Volume(arr, *geo), Volume((arr > 100).astype(int), *geo),
    ...                       [FilterSpec(filter="mean", size=3)])
    >>> t.loc[t.feature == "mean", "filter"].item()
    'mean_m3_3d'
    """
    import pandas as pd

    from ithkit.imaging._features import roi_features
    from ithkit.imaging._preprocess import FeatureConfig, intensity_mask

    cfg = config or FeatureConfig()
    roi = np.asarray(mask.array) > 0
    vals = np.asarray(image.array, dtype=float)
    keep = intensity_mask(vals, roi, cfg)
    if not keep.any():
        raise InputError(
            "the ROI is empty after re-segmentation",
            source=mask.source or "mask",
            fix="check the mask and resegment_range",
        )
    plain = replace(cfg, resegment_range=None, outlier_sigma=None)
    frames = []
    for spec in specs:
        box = _roi_box(keep, image.spacing_zyx, spec)
        sub = Volume(vals[box], image.spacing, image.origin, image.direction, image.source)
        resp = filter_image(sub, spec).array
        t = roi_features(
            resp, keep[box], image.spacing_zyx, config=plain, families=("intensity_statistics",)
        )
        t.insert(0, "filter", spec.tag)
        t.insert(2, "feature_tag", t["feature"].map(IBSI2_TAGS))
        frames.append(t)
    return pd.concat(frames, ignore_index=True)
