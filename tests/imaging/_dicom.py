"""Tiny DICOM writers for reader tests (CT/PET series, RTSTRUCT) built with pydicom."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray


def _base(modality: str, sop_class: str) -> object:
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("x", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.PatientID = "P1"
    ds.PatientName = "Test^Patient"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyDate = "20260101"
    ds.StudyTime = "090000"
    ds.StudyID = "1"
    ds.AccessionNumber = "1"
    ds.ReferringPhysicianName = ""
    ds.SeriesNumber = 1
    ds.Manufacturer = "ithkit-test"
    ds.StudyInstanceUID = "1.2.3.4"
    ds.FrameOfReferenceUID = "1.2.3.4.5"
    return ds


def write_series(
    folder: Path,
    stored: NDArray[np.int16],
    *,
    modality: str = "CT",
    slope: float = 1.0,
    intercept: float = 0.0,
    spacing: tuple[float, float, float] = (0.8, 0.8, 2.0),
    pet: dict[str, float] | None = None,
    edit: Callable[[Any, int], None] | None = None,
) -> None:
    """Write ``stored`` (z, y, x) as one DICOM file per slice; ``edit(ds, z)`` may change the
    header of slice z before it is saved."""
    from pydicom.dataset import Dataset

    folder.mkdir(parents=True, exist_ok=True)
    sop = "1.2.840.10008.5.1.4.1.1.2" if modality == "CT" else "1.2.840.10008.5.1.4.1.1.128"
    series_uid = "1.2.3.4.6"
    for z in range(stored.shape[0]):
        ds = _base(modality, sop)
        ds.SeriesInstanceUID = series_uid
        ds.InstanceNumber = z + 1
        ds.ImagePositionPatient = [0.0, 0.0, z * spacing[2]]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = [spacing[1], spacing[0]]
        ds.SliceThickness = spacing[2]
        ds.Rows, ds.Columns = stored.shape[1], stored.shape[2]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1
        ds.RescaleSlope = slope
        ds.RescaleIntercept = intercept
        if pet is not None:
            ds.Units = "BQML"
            ds.PatientWeight = pet["weight_kg"]
            ds.SeriesTime = "100000"
            info = Dataset()
            info.RadionuclideTotalDose = pet["dose_bq"]
            info.RadionuclideHalfLife = pet["half_life_s"]
            info.RadiopharmaceuticalStartTime = "090000"
            ds.RadiopharmaceuticalInformationSequence = [info]
        ds.PixelData = np.ascontiguousarray(stored[z], dtype=np.int16).tobytes()
        if edit is not None:
            edit(ds, z)
        ds.save_as(str(folder / f"s{z:03d}.dcm"), enforce_file_format=True)


def write_rtstruct(path: Path, contours: dict[str, list[NDArray[np.float64]]]) -> None:
    """RTSTRUCT with one ROI per name; each contour an (n, 3) array of x, y, z in mm."""
    from pydicom.dataset import Dataset

    ds = _base("RTSTRUCT", "1.2.840.10008.5.1.4.1.1.481.3")
    ds.SeriesInstanceUID = "1.2.3.4.7"
    ds.StructureSetROISequence = []
    ds.ROIContourSequence = []
    for number, (name, polys) in enumerate(contours.items(), start=1):
        roi = Dataset()
        roi.ROINumber = number
        roi.ROIName = name
        ds.StructureSetROISequence.append(roi)
        item = Dataset()
        item.ReferencedROINumber = number
        item.ContourSequence = []
        for poly in polys:
            c = Dataset()
            c.ContourGeometricType = "CLOSED_PLANAR"
            c.NumberOfContourPoints = len(poly)
            c.ContourData = [float(v) for v in np.asarray(poly).ravel()]
            item.ContourSequence.append(c)
        ds.ROIContourSequence.append(item)
    ds.save_as(str(path), enforce_file_format=True)
