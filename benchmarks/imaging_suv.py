"""PET SUV from DICOM headers: ithkit vs pictologics 0.9 on synthetic PET series.

Usage::

    python benchmarks/imaging_suv.py [--pictologics-python PICTO_VENV/bin/python] [--keep DIR]

Writes small PET DICOM series (pydicom; 2 x 3 x 3 voxels of 500 Bq/ml after RescaleSlope) whose
headers cover the cases of the QIBA vendor-neutral SUV pseudo-code: decay to the series start
(START), no decay (ADMIN), an injection before midnight with and without a date, a re-processed
series whose SeriesTime is after its AcquisitionTime, Philips CNTS with the private SUV factor
(7053,1000) or the activity factor (7053,1009), values already in SUV (GML); men and women. For
each series and normalisation (bw, lbm = Janmahasatian, lbm-james, bsa = Du Bois) it prints
ithkit's SUV (``read_image(folder, suv=...)``), the SUV computed here by hand from the header
numbers, and pictologics' (``load_image(folder, suv=...)``, run in its own Python >= 3.12
environment), with the largest relative difference.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

F18_S = 6586.2
CONC = 500.0  # Bq/ml after RescaleSlope 0.5
KINDS = ("bw", "lbm", "lbm-james", "bsa")

# name -> (header fields, radiopharmaceutical fields, delay s (None: no decay), philips)
CASES: dict[str, dict[str, Any]] = {
    "start_1h_M": {"hdr": {}, "delay": 3600.0},
    "admin_F": {"hdr": {"DecayCorrection": "ADMIN", "PatientSex": "F"}, "delay": None},
    "midnight_time_only": {
        "hdr": {"SeriesDate": "20260102", "SeriesTime": "001000",
                "AcquisitionDate": "20260102", "AcquisitionTime": "001000"},
        "rp": {"RadiopharmaceuticalStartTime": "235000"},
        "delay": 1200.0,
    },
    "midnight_datetime": {
        "hdr": {"SeriesDate": "20260102", "SeriesTime": "001000",
                "AcquisitionDate": "20260102", "AcquisitionTime": "001000"},
        "rp": {"RadiopharmaceuticalStartDateTime": "20260101235000"},
        "delay": 1200.0,
    },
    "series_after_acquisition": {
        "hdr": {"SeriesTime": "120000", "AcquisitionTime": "093000"},
        "delay": 1800.0,
    },
    "philips_cnts_suv": {"hdr": {"Units": "CNTS"}, "philips": ("0.000551", None), "delay": None},
    "philips_cnts_bqml": {"hdr": {"Units": "CNTS"}, "philips": (None, "1.602563"),
                          "delay": 3600.0},
    "gml": {"hdr": {"Units": "GML"}, "delay": None},
}  # fmt: skip


def write_case(folder: Path, case: dict[str, Any]) -> dict[str, Any]:
    """One PET series; returns the header numbers used for the hand calculation."""
    from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    hdr = {"Units": "BQML", "DecayCorrection": "START", "PatientWeight": 75.0,
           "PatientSize": 1.85, "PatientSex": "M", "SeriesDate": "20260101",
           "SeriesTime": "100000", "AcquisitionDate": "20260101", "AcquisitionTime": "100000",
           **case["hdr"]}  # fmt: skip
    rp = {"RadionuclideTotalDose": 3.7e8, "RadionuclideHalfLife": F18_S,
          "RadiopharmaceuticalStartTime": "090000", **case.get("rp", {})}  # fmt: skip
    series, study, frame = generate_uid(), generate_uid(), generate_uid()
    stored = np.full((2, 3, 3), 1000, dtype=np.int16)
    for z in range(stored.shape[0]):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.128"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(folder / f"s{z}.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = (
            meta.MediaStorageSOPClassUID,
            meta.MediaStorageSOPInstanceUID,
        )
        ds.Modality, ds.PatientID, ds.PatientName = "PT", "P1", "Test^Patient"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.FrameOfReferenceUID = frame
        ds.StudyDate, ds.StudyTime, ds.SeriesNumber, ds.InstanceNumber = (
            "20260101",
            "090000",
            1,
            z + 1,
        )
        ds.CorrectedImage = ["ATTN", "DECY"]
        for key, value in hdr.items():
            setattr(ds, key, value)
        info = Dataset()
        for key, value in rp.items():
            setattr(info, key, value)
        ds.RadiopharmaceuticalInformationSequence = [info]
        suv_f, act_f = case.get("philips", (None, None))
        if suv_f or act_f:
            block = ds.private_block(0x7053, "Philips PET Private Group", create=True)
            if suv_f:
                block.add_new(0x00, "DS", suv_f)
            if act_f:
                block.add_new(0x09, "DS", act_f)
        ds.ImagePositionPatient = [0.0, 0.0, 2.0 * z]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing, ds.SliceThickness = [2.0, 2.0], 2.0
        ds.Rows, ds.Columns = stored.shape[1:]
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated = ds.BitsStored = 16
        ds.HighBit, ds.PixelRepresentation = 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = 0.5, 0.0
        ds.PixelData = np.ascontiguousarray(stored[z]).tobytes()
        ds.save_as(str(folder / f"s{z}.dcm"), enforce_file_format=True)
    return {**hdr, **rp, "philips": case.get("philips", (None, None)), "delay": case["delay"]}


def by_hand(h: dict[str, Any], kind: str) -> float:
    """The SUV of the CONC voxels from the published formulas (independent of ithkit)."""
    w, height, sex = float(h["PatientWeight"]), float(h["PatientSize"]), h["PatientSex"]
    if kind == "bw":
        body = w * 1000.0
    elif kind == "bsa":
        body = 0.007184 * w**0.425 * (height * 100) ** 0.725 * 1e4
    elif kind == "lbm":
        bmi = w / height**2
        body = 9270 * w / ((6680 + 216 * bmi) if sex == "M" else (8780 + 244 * bmi)) * 1000
    else:
        a, b = (1.10, 128.0) if sex == "M" else (1.07, 148.0)
        body = (a * w - b * (w / (height * 100)) ** 2) * 1000
    ratio = body / (w * 1000.0)
    if h["Units"] == "GML":
        return CONC * ratio
    suv_f, act_f = h["philips"]
    if suv_f:
        return CONC * float(suv_f) * ratio
    conc = CONC * float(act_f) if act_f else CONC
    dose = float(h["RadionuclideTotalDose"])
    if h["delay"] is not None:
        dose *= 2.0 ** (-h["delay"] / float(h["RadionuclideHalfLife"]))
    return conc * body / dose


def pictologics_worker(root: Path) -> None:
    """Run in pictologics' environment: the mean SUV of every series and kind (JSON lines)."""
    import warnings

    from pictologics import load_image

    warnings.simplefilter("ignore")
    for case in CASES:
        for kind in KINDS:
            try:
                img = load_image(str(root / case), suv=kind.replace("-", "_"))
                value: float | str = float(np.mean(img.array))
            except Exception as exc:  # a refusal is a result too
                value = f"{type(exc).__name__}: {exc}".splitlines()[0][:80]
            print(json.dumps({"case": case, "kind": kind, "value": value}), flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--pictologics-worker":
        pictologics_worker(Path(argv[1]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pictologics-python", help="python (>= 3.12) with pictologics installed")
    ap.add_argument("--keep", type=Path, help="write the series here (default: a temp folder)")
    args = ap.parse_args(argv)
    from ithkit.imaging import read_image

    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        headers = {name: write_case(root / name, case) for name, case in CASES.items()}
        picto: dict[tuple[str, str], Any] = {}
        if args.pictologics_python:
            import subprocess

            proc = subprocess.run(
                [args.pictologics_python, __file__, "--pictologics-worker", str(root)],
                capture_output=True, text=True, check=True,
                env={"PATH": "/usr/bin:/bin", "NUMBA_NUM_THREADS": "1"},
            )  # fmt: skip
            for line in proc.stdout.splitlines():
                if line.startswith("{"):
                    r = json.loads(line)
                    picto[(r["case"], r["kind"])] = r["value"]
        print(f"{'case':<26} {'suv':<10} {'by hand':>12} {'ithkit':>12} {'pictologics':>12} "
              f"{'max rel diff':>12}")  # fmt: skip
        worst = 0.0
        for name in CASES:
            for kind in KINDS:
                hand = by_hand(headers[name], kind)
                ours = float(np.mean(read_image(root / name, suv=kind).array))
                p = picto.get((name, kind))
                vals = [ours] + ([p] if isinstance(p, float) else [])
                rel = max(abs(v - hand) / abs(hand) for v in vals)
                worst = max(worst, rel)
                ptxt = f"{p:.6g}" if isinstance(p, float) else ("" if p is None else "refused")
                print(f"{name:<26} {kind:<10} {hand:>12.6g} {ours:>12.6g} {ptxt:>12} "
                      f"{rel:>12.1e}")  # fmt: skip
                if isinstance(p, str):
                    print(f"    pictologics: {p}")
        print(f"largest relative difference from the hand calculation: {worst:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
