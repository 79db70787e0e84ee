"""Response assessment: RECIST 1.1, iRECIST, volumetric, per-lesion and mixed response.

:func:`recist` assesses a lesion table (:data:`ithkit.schema.LESIONS`) exactly by RECIST 1.1
(Eisenhauer et al., Eur J Cancer 2009;45:228) or iRECIST (Seymour et al., Lancet Oncol
2017;18:e143), with the per-lesion picture that the categories hide (mixed response, a
heterogeneity index of response) and volumetric response. :func:`read_sdtm_tumor` reads CDISC
SDTM TU/TR domains; :func:`to_rs` writes RS-style records.

Examples
--------
>>> from ithkit.evolution import virtual_patient
>>> from ithkit.response import recist
>>> res = recist(virtual_patient(seed=1).lesions)
>>> res.best_response["best_overall_response"].iloc[0]
'PR'
"""

from __future__ import annotations

from ithkit.response._mixed import mixed_response, volumetric_response
from ithkit.response._prepare import RecistWarning, exact, prepare_lesions
from ithkit.response._recist import (
    IRECIST_CODES,
    PATTERNS,
    RESPONSE_CODES,
    RecistResult,
    best_overall_response,
    recist,
)
from ithkit.response._sdtm import read_sdtm_tumor, to_rs

__all__ = [
    "IRECIST_CODES",
    "PATTERNS",
    "RESPONSE_CODES",
    "RecistResult",
    "RecistWarning",
    "best_overall_response",
    "exact",
    "mixed_response",
    "prepare_lesions",
    "read_sdtm_tumor",
    "recist",
    "to_rs",
    "volumetric_response",
]
