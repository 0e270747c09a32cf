"""The court's calendar: weekends, holidays, the recess and closures."""

from datetime import date

from booking.availability.court_calendar import (
    RECESS_REASON,
    WEEKEND_REASON,
    Closure,
    closed_days,
)


def test_national_holiday_is_closed():
    closed = closed_days(date(2027, 9, 6), date(2027, 9, 8))
    assert date(2027, 9, 6) not in closed
    assert closed[date(2027, 9, 7)].startswith("Feriado: ")
    assert "Independência" in closed[date(2027, 9, 7)]


def test_mato_grosso_holiday_is_closed_there_only():
    """Consciência Negra was a Mato Grosso holiday before it became national in 2024."""
    day = date(2023, 11, 20)
    assert day in closed_days(day, day, subdivision="MT")
    assert day not in closed_days(day, day, subdivision="SP")


def test_optional_days_courts_close_on():
    closed = closed_days(date(2027, 2, 8), date(2027, 2, 10))
    assert set(closed) == {date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10)}  # Carnival


def test_year_end_recess_is_on_by_default_and_can_be_turned_off():
    closed = closed_days(date(2026, 12, 18), date(2027, 1, 8))
    assert date(2026, 12, 18) not in closed
    assert closed[date(2026, 12, 21)] == RECESS_REASON
    assert closed[date(2027, 1, 6)] == RECESS_REASON
    assert date(2027, 1, 7) not in closed
    without = closed_days(date(2026, 12, 21), date(2026, 12, 23), recess=False)
    assert without == {}


def test_weekends_are_closed():
    closed = closed_days(date(2027, 3, 5), date(2027, 3, 8))
    assert closed == {date(2027, 3, 6): WEEKEND_REASON, date(2027, 3, 7): WEEKEND_REASON}


def test_comarca_closure_applies_to_that_comarca_and_court_wide_to_all():
    closures = (Closure(date(2027, 3, 2), date(2027, 3, 3), "Falta de energia", comarca_id=7),
                Closure(date(2027, 3, 10), date(2027, 3, 10), "Obras no data center"))
    sinop = closed_days(date(2027, 3, 1), date(2027, 3, 12), comarca_id=7, closures=closures)
    other = closed_days(date(2027, 3, 1), date(2027, 3, 12), comarca_id=8, closures=closures)
    assert sinop[date(2027, 3, 2)] == "Falta de energia"
    assert date(2027, 3, 2) not in other
    assert sinop[date(2027, 3, 10)] == other[date(2027, 3, 10)] == "Obras no data center"
