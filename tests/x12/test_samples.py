"""Every public sample file through `claimdesk x12 parse`: parsed, or refused for a real defect.

The samples live outside the repository (``<repo>/../shared/x12-samples``) and
are read in place, never copied. A refusal must name the defect's segment and
element; the comment says what the defect is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimdesk.cli.main import app
from claimdesk.x12 import (
    Ack999,
    ClaimStatus277,
    ClaimSubmission837,
    Remittance835,
    X12Error,
    read_interchanges,
)

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / ".." / "shared" / "x12-samples"

OK = None
NPI_REFUSED = "claimdesk's claim model refuses claims.0.billing_provider.npi"
# file -> None (parses, exit 0) or the start of the X12Error message (exit 1).
EXPECTED: dict[str, str | None] = {
    "270/ims__x270.txt": "segment 16 SE SE01",  # SE01 says 15, the set has 14 segments
    "270/lfh__dependent-health-benefit-check.270": OK,
    "270/lfh__subscriber-health-benefit-check.270": OK,
    "270/oopfactory__Example1_IG.txt": OK,  # BOM, indentation, CRLF
    "271/ims__x271.txt": "segment 20 SE SE01",  # SE01 says 19, the set has 18 segments
    "271/lfh__dependent-health-benefit-check.271": OK,
    "271/lfh__subscriber-health-benefit-check-error.271": "segment 10 SE SE02",  # 4323 vs ST02 4321
    "271/lfh__subscriber-health-benefit-check.271": OK,
    "271/oopfactory__Example_3_1_2.txt": OK,  # GS01 'XX', ISA11 = ISA16 = '^'
    "271/oopfactory__Example_3_1_3.txt": OK,
    "271/oopfactory__Example_3_2_2.txt": OK,
    "271/oopfactory__From_georgiosd.txt": OK,
    "276/lfh__claim-level-status-ncpdp.276": OK,
    "276/lfh__claim-level-status.276": OK,
    "276/lfh__information-receiver-level-status.276": OK,
    "276/lfh__provider-level-status.276": OK,
    "276/oopfactory__Example1_IG.txt": OK,
    "277/ims__x12_277_x212.txt": "segment 111 IEA IEA02",  # 842928883 vs ISA13 000000001
    "277/lfh__claim-level-status-ncpdp.277": OK,
    "277/lfh__claim-level-status.277": OK,
    "277/lfh__information-receiver-level-status.277": OK,
    "277/lfh__provider-level-status.277": OK,
    "277CA/ims__x12_277CA_accepted.txt": OK,
    "277CA/ims__x12_277CA_rejected.txt": OK,  # '|' component separator
    "277CA/oopfactory__277_Deidentified_from_nth.txt": OK,
    "277CA/oopfactory__FromAlexbrodsky.txt": OK,
    "277CA/oopfactory__FromBogeyone.txt": "segment 11: data ends inside a transaction set",
    "277CA/oopfactory__FromLatitude81uk.txt": "segment 13 STC STC02",  # '2trtrtrt' is no date
    "835/ks__blue_cross_nc_sample.txt": "segment 1: the data does not start with an ISA",
    "835/ks__emedny_sample.txt": OK,
    "835/ks__united_healthcare_legacy_sample.txt": OK,  # '>' component separator
    # ISA16 declares ':' but SVC01 is written 'HC>55669': no procedure code component
    "835/lfh__cob-contractural-adjustment.835": "segment 21 SVC SVC01-2",
    "835/lfh__managed-care.835": "segment 4 BPR BPR16",  # 20002316: month 23
    "835/lfh__medicare-part-a.835": OK,
    "835/lfh__secondary-payment.835": "segment 29 SVC SVC01-2",  # 'HC>12345>26' with ISA16 ':'
    "835/lfh__tertiary-payment.835": "segment 20 SVC SVC01-2",  # 'SVC*HC*24599.00*...': no code
    "835/moov__sample1.txt": OK,  # parses; one claim is 0.01 out of balance (reported)
    "835/moov__sample2.txt": "segment 4 BPR BPR16",  # 20990080: month 00
    "835/oopfactory__Example1.txt": "segment 98 CLP CLP03",  # 'CLP*090909*22' has no charge
    "835/oopfactory__ExampleFromNth.txt": OK,  # parses; its made-up figures do not balance
    "835/pyx12__835_mult_loops.txt": OK,
    "837I/ims__x223-test.txt": "segment 50 SE SE01",  # SE01 wrong
    # 837 'BK' = ICD-9 principal diagnosis: valid X12 in its day, but claimdesk's claim
    # model (claim_data) takes ICD-10-CM only, so these are refused by policy.
    "837I/lfh__institutional-claim.837i": "segment 25 HI HI01-1: ICD-9",  # BK
    "837I/lfh__two-claims-single-provider.837i": "segment 24 HI HI01-1: ICD-9",  # BK
    # NM1*85 NPI 9876540809 fails the Luhn check digit
    "837I/oopfactory__Spec_3.1.1.txt": f"segment 22 CLM: {NPI_REFUSED}",
    # NM1*85 NPI 1257234346 fails the Luhn check digit
    "837I/oopfactory__Spec_3.1.3_PPORepricedClaim.txt": f"segment 26 CLM: {NPI_REFUSED}",
    "837P/ims__x12_complex.txt": "segment 149 SE SE01",  # SE01 wrong
    "837P/ims__x12_many_claims.txt": "segment 11488 SE SE01",  # SE01 wrong
    "837P/ims__x12_multiple_gs.txt": "segment 36 SE SE01",  # SE01 wrong
    "837P/ims__x12_valid.txt": "segment 36 SE SE01",  # SE01 says 25, the set has 34 segments
    "837P/lfh__demo.ambulance.example5.837": "segment 28 HI HI01-1: ICD-9",  # BK
    "837P/lfh__demo.autoaccident.837": "segment 28 HI HI01-1: ICD-9",  # BK
    "837P/lfh__demo.cob.example3.A.837": "segment 32 HI HI01-1: ICD-9",  # BK
    "837P/lfh__demo.cob.example3.B.837": "segment 32 HI HI01-1: ICD-9",  # BK
    "837P/lfh__demo.cob.example4.837": "segment 23 HI HI01-1: ICD-9",  # BK
    "837P/lfh__demo.drug.example10.2.837": "segment 22 HI HI01-1: ICD-9",  # BK
    "837P/lfh__demo.example1.837": "segment 29 HI HI01-1: ICD-9",  # BK
    "837P/lfh__demo.example2.837": "segment 27 HI HI01-1: ICD-9",  # BK
    "837P/lfh__demo.example7.837": "segment 21 HI HI01-1: ICD-9",  # BK
    "837P/moov__sample.txt": "segment 26 HI HI01-1: ICD-9",  # BK (with '<' separator)
    "837P/oopfactory__Example1_HealthInsurance.txt": "segment 31 HI HI01-1: ICD-9",  # BK
    "837P/oopfactory__Example2_Encounter.txt": "segment 27 HI HI01-1: ICD-9",  # BK
    "837P/oopfactory__Example3_COB.txt": "segment 32 HI HI01-1: ICD-9",  # BK
    "837P/oopfactory__MedicaidExample.txt": "segment 4 BHT BHT05",  # time 9999
    "837P/uhin__837.edi": OK,  # no REF*6R: line control numbers made from CLM01
    "999/ims__x12_999_accepted.txt": "segment 10 IEA IEA02",  # 1 vs ISA13 000000286
    "999/ims__x12_999_rejected.txt": OK,
    "999/oopfactory__DHS_Wisconsin_Sample.txt": OK,
    "999/pyx12__834_ls_le_ls_5010.999.txt": OK,
    "999/pyx12__834_lui_id_5010.999.txt": OK,  # two groups, four 999 sets
}

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared x12-samples not present")
runner = CliRunner()


def sample(name: str) -> Path:
    return SAMPLES / name


def test_samples_table_lists_every_file() -> None:
    on_disk = {str(p.relative_to(SAMPLES)) for p in SAMPLES.glob("*/*") if p.is_file()}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize(("name", "error"), sorted(EXPECTED.items()))
def test_samples_parse_cli_exit_code_and_message(name: str, error: str | None) -> None:
    result = runner.invoke(app, ["x12", "parse", str(sample(name)), "--json"])
    if error is None:
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["interchanges"]
    else:
        assert result.exit_code == 2  # bad input (X12Error), as `claimdesk --help` says
        assert f"error: {error}" in result.stderr
        assert "Traceback" not in result.output


# The installed console script, as a user runs it (CI has no `uv` on PATH).
CLAIMDESK = str(Path(sys.executable).parent / "claimdesk")


def test_samples_parse_in_a_real_process() -> None:
    good = subprocess.run(
        [
            CLAIMDESK,
            "x12",
            "parse",
            str(sample("835/moov__sample1.txt")),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert good.returncode == 0, good.stderr
    assert "835" in good.stdout and "NOT balanced" in good.stdout
    bad = subprocess.run(
        [
            CLAIMDESK,
            "x12",
            "parse",
            str(sample("835/moov__sample2.txt")),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert "error: segment 4 BPR BPR16" in bad.stderr and "Traceback" not in bad.stderr


def test_samples_835_mult_loops_values() -> None:
    [interchange] = read_interchanges(sample("835/pyx12__835_mult_loops.txt").read_bytes())
    [remittance] = interchange.groups[0].transactions
    assert isinstance(remittance, Remittance835)
    assert remittance.payment.total == Decimal("0")
    assert len(remittance.claims) == 1
    assert remittance.balanced


def test_samples_835_emedny_values() -> None:
    with sample("835/ks__emedny_sample.txt").open("rb") as stream:
        [interchange] = read_interchanges(stream)
    [remittance] = interchange.groups[0].transactions
    assert isinstance(remittance, Remittance835)
    assert remittance.payment.total == Decimal("45.75")
    assert [c.status_code for c in remittance.claims] == ["1", "2", "2"]
    assert remittance.balanced, remittance.balance_errors


def test_samples_835_moov_reports_the_unbalanced_claim() -> None:
    [interchange] = read_interchanges(sample("835/moov__sample1.txt").read_bytes())
    remittances = interchange.groups[0].transactions
    errors = [e for r in remittances for e in r.balance_errors]
    assert [(e.rule, e.expected, e.actual) for e in errors] == [
        ("claim", Decimal("385.21"), Decimal("385.20"))
    ]


def test_samples_999_rejected_ik5() -> None:
    [interchange] = read_interchanges(sample("999/ims__x12_999_rejected.txt").read_bytes())
    [ack] = interchange.groups[0].transactions
    assert isinstance(ack, Ack999)
    [set_ack] = ack.acks
    assert (set_ack.set_id, set_ack.control_number, set_ack.status) == ("837", "0028", "R")
    assert set_ack.error_codes == ("5",)
    assert set_ack.segment_errors[0].segment_id == "NM"
    assert ack.group_status == "R"


def test_samples_277ca_rejected_claim() -> None:
    [interchange] = read_interchanges(sample("277CA/ims__x12_277CA_rejected.txt").read_bytes())
    [status] = interchange.groups[0].transactions
    assert isinstance(status, ClaimStatus277) and status.kind == "277CA"
    [claim] = status.claims
    assert claim.accepted is False
    assert claim.patient_control_number == "3920394930203"
    assert claim.payer_claim_control_number == "1107000000001120"
    code = claim.statuses[0].codes[0]
    assert (code.category, code.status, code.entity) == ("A7", "562", "85")
    assert claim.service_from == date(2009, 3, 11)


def test_samples_837_uhin_claim() -> None:
    [interchange] = read_interchanges(sample("837P/uhin__837.edi").read_bytes())
    [submission] = interchange.groups[0].transactions
    assert isinstance(submission, ClaimSubmission837) and submission.kind == "837P"
    [claim] = submission.batch.claims
    assert claim.lines and claim.diagnoses
    assert claim.total_charge == sum(line.charge for line in claim.lines)


def test_samples_errors_are_x12_errors_without_values() -> None:
    with pytest.raises(X12Error) as caught:
        read_interchanges(sample("277CA/oopfactory__FromLatitude81uk.txt").read_bytes())
    assert "2trtrtrt" not in str(caught.value)
    assert caught.value.detail is not None and "2trtrtrt" in caught.value.detail
