"""EU micro-credential profile: Annex I elements read from ELM, Open Badges 3.0 and flat VCs.

Pure (no I/O, no clock): the verification pipeline calls ``evaluate_microcredential`` on
an already verified credential and puts the check and the summary in the report. The
element-to-property mapping per shape is documented in docs/microcredentials.md.
"""

from trustbridge.microcred.annex import MANDATORY_ELEMENTS, OPTIONAL_ELEMENTS
from trustbridge.microcred.evaluate import (
    CHECK,
    MicrocredentialResult,
    evaluate_microcredential,
)
from trustbridge.microcred.jurisdiction import check_jurisdiction
from trustbridge.microcred.summary import MicroCredentialSummary

__all__ = [
    "CHECK",
    "MANDATORY_ELEMENTS",
    "OPTIONAL_ELEMENTS",
    "MicroCredentialSummary",
    "MicrocredentialResult",
    "check_jurisdiction",
    "evaluate_microcredential",
]
