"""The pure validators of case numbers and bar registrations."""

import pytest

from booking import cnj
from booking.bookings import oab

REAL_OTHER_COURT = "0058967-77.2016.8.19.0000"  # a real number of the TJRJ


def test_real_number_passes_its_check_digits():
    number = cnj.parse(REAL_OTHER_COURT)
    assert str(number) == REAL_OTHER_COURT
    assert number.court_code == "8.19"


def test_accepted_with_or_without_punctuation_and_stored_normalised():
    assert str(cnj.parse("00589677720168190000")) == REAL_OTHER_COURT
    assert str(cnj.parse(" 0058967-77.2016.8.19.0000 ")) == REAL_OTHER_COURT


def test_another_courts_number_fails_the_court_check_saying_so():
    with pytest.raises(cnj.CaseNumberError, match="outro tribunal.*8.19.*8.11"):
        cnj.parse_for_court(REAL_OTHER_COURT, "8.11")


def test_a_mato_grosso_number_passes_the_court_check():
    digits = cnj.check_digits("0001234", "2026", "8", "11", "0041")
    number = cnj.parse_for_court(f"0001234-{digits}.2026.8.11.0041", "8.11")
    assert number.court_code == "8.11"


@pytest.mark.parametrize("position", [i for i, c in enumerate(REAL_OTHER_COURT) if c.isdigit()])
def test_every_single_digit_change_fails(position):
    for digit in "0123456789":
        if digit == REAL_OTHER_COURT[position]:
            continue
        changed = REAL_OTHER_COURT[:position] + digit + REAL_OTHER_COURT[position + 1:]
        with pytest.raises(cnj.CaseNumberError, match="dígitos verificadores"):
            cnj.parse(changed)


@pytest.mark.parametrize("text", ["", "123", "0058967-77.2016.8.19.000", "0058967/77.2016.8.19.0000",
                                  "00589677720168190000X", "0058967-7.72016.8.19.0000"])
def test_malformed_numbers_are_refused(text):
    with pytest.raises(cnj.CaseNumberError):
        cnj.parse(text)


@pytest.mark.parametrize("typed, stored", [
    ("12345/MT", "12345/MT"), ("12345/mt", "12345/MT"), (" 12.345 / MT ", "12345/MT"),
    ("8901-A/SP", "8901A/SP"), ("8901a/sp", "8901A/SP"), ("OAB/MT 12345", "12345/MT"),
    ("OAB 12345/DF", "12345/DF"), ("007/RJ", "7/RJ"), ("MT 12345", "12345/MT"),
    ("mt 12.345", "12345/MT"), ("SP 8901-A", "8901A/SP"),
])
def test_oab_numbers_are_normalised(typed, stored):
    assert oab.normalize(typed) == stored


@pytest.mark.parametrize("typed, message", [
    ("", "Informe"), ("12345", "formato"), ("12345/XX", "Seccional XX"),
    ("0/MT", "formato"), ("1234567/MT", "formato"), ("12345/MT/SP", "formato"),
    ("XX 12345", "Seccional XX"), ("MT", "formato"),
])
def test_bad_oab_numbers_say_why(typed, message):
    with pytest.raises(oab.OabError, match=message):
        oab.normalize(typed)
