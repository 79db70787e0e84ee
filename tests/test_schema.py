"""Validation of the DESIGN.md contracts: every bad input gets a one-line InputError."""

from __future__ import annotations

import pandas as pd
import pytest

from ithkit import IgnoredColumnsWarning, InputError, schema


def variants_frame(**overrides: list[str]) -> pd.DataFrame:
    data = {
        "mutation_id": ["m1", "m2", "m1", "m2"],
        "sample_id": ["R1", "R1", "R2", "R2"],
        "ref_counts": ["90", "80", "70", "60"],
        "alt_counts": ["10", "20", "30", "40"],
        "major_cn": ["1", "2", "1", "2"],
        "minor_cn": ["1", "0", "1", "1"],
        "normal_cn": ["2", "2", "2", "2"],
        "tumour_content": ["0.8", "0.8", "0.6", "0.6"],
    }
    data.update(overrides)
    return pd.DataFrame(data)


def test_valid_variants_are_typed() -> None:
    typed = schema.validate(variants_frame(), schema.VARIANTS)
    assert typed["alt_counts"].dtype == "int64"
    assert typed["tumour_content"].dtype == "float64"
    assert typed["mutation_id"].tolist() == ["m1", "m2", "m1", "m2"]


def test_identifiers_stay_strings() -> None:
    frame = variants_frame(mutation_id=["007", "1e3", "007", "1e3"])
    typed = schema.validate(frame, schema.VARIANTS)
    assert typed["mutation_id"].tolist() == ["007", "1e3", "007", "1e3"]


@pytest.mark.parametrize(
    ("column", "values", "expected"),
    [
        ("alt_counts", ["10", "-3", "30", "40"], r"line 3, column alt_counts: value is -3"),
        (
            "ref_counts",
            ["90", "80", "7.5", "60"],
            r"line 4, column ref_counts: value 7.5 is not a whole",
        ),
        (
            "alt_counts",
            ["10", "many", "30", "40"],
            r"line 3, column alt_counts: value 'many' is not a number",
        ),
        ("tumour_content", ["0", "0", "0.6", "0.6"], r"line 2, column tumour_content: value is 0"),
        ("tumour_content", ["1.2", "1.2", "0.6", "0.6"], r"above the maximum 1"),
        ("tumour_content", ["-0.1", "-0.1", "0.6", "0.6"], r"tumour_content must be > 0 and <= 1"),
        ("major_cn", ["1", "", "1", "2"], r"line 3, column major_cn: value is empty"),
        ("alt_counts", ["10", "inf", "30", "40"], r"value is inf"),
    ],
)
def test_bad_values_name_line_and_column(column: str, values: list[str], expected: str) -> None:
    with pytest.raises(InputError, match=expected) as info:
        schema.validate(variants_frame(**{column: values}), schema.VARIANTS, source="v.tsv")
    message = str(info.value)
    assert message.startswith("v.tsv: ")
    assert "\n" not in message
    assert info.value.column == column


def test_purity_exactly_one_is_allowed() -> None:
    typed = schema.validate(
        variants_frame(tumour_content=["1", "1", "1.0", "1.0"]), schema.VARIANTS
    )
    assert typed["tumour_content"].eq(1.0).all()


def test_missing_column() -> None:
    frame = variants_frame().drop(columns="normal_cn")
    with pytest.raises(InputError, match=r"missing column 'normal_cn'"):
        schema.validate(frame, schema.VARIANTS)


def test_misspelt_column_gets_a_suggestion() -> None:
    frame = variants_frame().rename(columns={"alt_counts": "alt_count"})
    with pytest.raises(InputError, match=r"unknown column 'alt_count'; did you mean 'alt_counts'"):
        schema.validate(frame, schema.VARIANTS)


def test_unknown_column_warns_and_is_dropped_or_rejected_when_strict() -> None:
    frame = variants_frame().assign(cluster=["0", "1", "0", "1"])
    with pytest.warns(IgnoredColumnsWarning, match="cluster"):
        typed = schema.validate(frame, schema.VARIANTS)
    assert "cluster" not in typed.columns
    with pytest.raises(InputError, match=r"unknown column 'cluster'"):
        schema.validate(frame, schema.VARIANTS, strict=True)


def test_duplicate_key_names_both_lines() -> None:
    frame = variants_frame(mutation_id=["m1", "m2", "m1", "m1"], sample_id=["R1", "R1", "R2", "R2"])
    with pytest.raises(
        InputError, match=r"line 5: duplicate row .*mutation_id=m1, sample_id=R2.*line 4"
    ):
        schema.validate(frame, schema.VARIANTS)


def test_minor_above_major() -> None:
    with pytest.raises(InputError, match=r"minor_cn \(2\) is larger than major_cn \(1\)"):
        schema.validate(variants_frame(minor_cn=["2", "0", "1", "1"]), schema.VARIANTS)


def test_one_purity_per_sample() -> None:
    with pytest.raises(InputError, match=r"sample 'R1' has tumour_content 0.8 and 0.7"):
        schema.validate(
            variants_frame(tumour_content=["0.8", "0.7", "0.6", "0.6"]), schema.VARIANTS
        )


def test_header_without_rows() -> None:
    with pytest.raises(InputError, match="header but no rows"):
        schema.validate(variants_frame().iloc[0:0], schema.VARIANTS)


def test_typed_frames_validate_too() -> None:
    frame = schema.validate(variants_frame(), schema.VARIANTS)
    again = schema.validate(frame, schema.VARIANTS)
    pd.testing.assert_frame_equal(frame, again)


def ctdna_frame(**overrides: list[str]) -> pd.DataFrame:
    data = {
        "patient_id": ["P1", "P1", "P1"],
        "timepoint": ["0", "0", "1"],
        "date": ["2026-01-05", "2026-01-05", "2026-02-02"],
        "mutation_id": ["a", "b", "a"],
        "gene": ["TP53", "KRAS", "TP53"],
        "alt_counts": ["12", "3", "4"],
        "depth": ["1000", "900", "1100"],
    }
    data.update(overrides)
    return pd.DataFrame(data)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"alt_counts": ["12", "950", "4"]},
            r"line 3, column alt_counts: alt_counts \(950\) exceeds depth",
        ),
        (
            {"depth": ["1000", "0", "1100"]},
            r"line 3, column depth: value is 0 reads, below the minimum 1",
        ),
        ({"date": ["2026-01-05", "2026-01-05", "2025-12-01"]}, r"dates out of order for P1"),
        (
            {"date": ["2026-01-05", "2026-01-06", "2026-02-02"]},
            r"timepoint 0 of P1 has more than one date",
        ),
        ({"date": ["2026-01-05", "05/01/2026", "2026-02-02"]}, r"not an ISO 8601 date"),
        ({"mutation_id": ["a", "a", "a"]}, r"duplicate row"),
    ],
)
def test_ctdna_checks(overrides: dict[str, list[str]], expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        schema.validate(ctdna_frame(**overrides), schema.CTDNA)


def lesion_frame(**overrides: list[str]) -> pd.DataFrame:
    data = {
        "patient_id": ["P1", "P1"],
        "lesion_id": ["L1", "L1"],
        "timepoint": ["0", "1"],
        "date": ["2026-01-05", "2026-03-02"],
        "organ": ["liver", "liver"],
        "lesion_class": ["target", "target"],
        "is_lymph_node": ["false", "false"],
        "diameter_mm": ["32.5", "20"],
    }
    data.update(overrides)
    return pd.DataFrame(data)


def test_lesions_typed() -> None:
    typed = schema.validate(lesion_frame(), schema.LESIONS)
    assert typed["is_lymph_node"].tolist() == [False, False]
    assert typed["diameter_mm"].tolist() == [32.5, 20.0]
    assert str(typed["date"].dtype).startswith("datetime64")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"lesion_class": ["target", "nontarget"]},
            r"'nontarget' is not allowed; lesion_class must be one of target, non_target, new",
        ),
        ({"is_lymph_node": ["false", "maybe"]}, r"'maybe' is not a boolean"),
        ({"diameter_mm": ["32.5", "-1"]}, r"value is -1 mm, below the minimum 0"),
        ({"timepoint": ["0", "-1"]}, r"column timepoint: value is -1"),
    ],
)
def test_lesion_checks(overrides: dict[str, list[str]], expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        schema.validate(lesion_frame(**overrides), schema.LESIONS)


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        ([1, 2], "not a YAML mapping"),
        ({"variants": "v.tsv"}, "patient_id is missing"),
        ({"patient_id": "P1", "varients": "v.tsv"}, "did you mean 'variants'"),
        ({"patient_id": "P1"}, "names no data file"),
        ({"patient_id": "P1", "lesions": ["a", "b"]}, "lesions must be a file path"),
    ],
)
def test_manifest_checks(manifest: object, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        schema.validate_manifest(manifest, source="patient.yaml")


def test_describe_lists_every_column() -> None:
    table = schema.describe(schema.LESIONS)
    assert table["column"].tolist() == list(schema.LESIONS.names)
    assert table.set_index("column").loc["diameter_mm", "unit"] == "mm"


def test_contracts_doc_is_in_sync() -> None:
    from pathlib import Path

    doc = Path(__file__).parents[1] / "docs" / "contracts.md"
    assert doc.read_text(encoding="utf-8") == schema.contracts_markdown()


def test_repeated_index_labels_are_fine() -> None:
    frame = pd.concat([variants_frame().iloc[:2], variants_frame().iloc[2:]])
    frame.index = [0, 1, 0, 1]
    typed = schema.validate(frame, schema.VARIANTS)
    assert len(typed) == 4
    bad = frame.copy()
    bad.iloc[3, bad.columns.get_loc("alt_counts")] = "-1"
    with pytest.raises(InputError, match="line 5, column alt_counts"):
        schema.validate(bad, schema.VARIANTS)
