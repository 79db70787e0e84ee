"""NIfTI images and masks must not need the [dicom] extra (the demo installs only [imaging])."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ithkit.imaging import read_mask, synthetic_ct, write_volume


def test_nifti_mask_reads_without_pydicom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lesion = synthetic_ct(shape=(16, 16, 16), radius_mm=5, seed=1)
    write_volume(lesion.mask, tmp_path / "mask.nii.gz")
    real_import = builtins.__import__

    def no_pydicom(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] in ("pydicom", "highdicom"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pydicom)
    mask = read_mask(tmp_path / "mask.nii.gz")
    assert np.array_equal(np.asarray(mask.array), np.asarray(lesion.mask.array))
