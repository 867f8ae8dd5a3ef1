import pytest
from django.core.exceptions import ValidationError

from accounts.uscc import make_uscc, uscc_problem

REAL_CODES = ["91330100716105852F", "9144030071526726XG", "914403001922038216", "91110000802100433B"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_pass(code):
    assert uscc_problem(code) is None


@pytest.mark.parametrize(("code", "fragment"), [
    ("91330100716105852E", "check character"),
    ("9133010071610585", "18 characters"),
    ("91330100716105852I", "not allowed"),
    ("9133010071610585OF", "not allowed"),
])
def test_bad_codes_named(code, fragment):
    assert fragment in uscc_problem(code)


def test_make_uscc_completes_valid_code():
    assert uscc_problem(make_uscc("91330100MA0000011")) is None


def test_organisation_with_bad_code_refused_and_nothing_written(db):
    from accounts.models import Organisation
    from accounts.services import organisation_create
    from audit.models import AuditEvent

    with pytest.raises(ValidationError, match="check character"):
        organisation_create(actor="system", name="Bad", uscc="91330100716105852E")
    assert Organisation.objects.count() == 0 and AuditEvent.objects.count() == 0
