"""The pure slot arithmetic, proven with properties over random rules."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from booking.availability.slots import (
    Interval,
    Rules,
    Window,
    generate_slots,
    local_instant,
)

UTC = UTC
ZONES = ["America/Cuiaba", "America/Sao_Paulo", "America/New_York", "Europe/Lisbon",
         "America/Campo_Grande"]


def overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


@st.composite
def windows(draw):
    weekday = draw(st.integers(0, 4))
    start_minutes = draw(st.integers(6 * 60, 19 * 60))
    length = draw(st.integers(15, 6 * 60))
    end_minutes = min(start_minutes + length, 23 * 60 + 59)
    return Window(weekday, time(start_minutes // 60, start_minutes % 60),
                  time(end_minutes // 60, end_minutes % 60),
                  video=draw(st.booleans()), in_person=draw(st.booleans()))


@st.composite
def scenarios(draw):
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    now = draw(st.datetimes(min_value=datetime(2017, 1, 1), max_value=datetime(2028, 12, 31),
                            timezones=st.just(UTC)))
    rules = Rules(slot_minutes=draw(st.integers(15, 120)),
                  buffer_minutes=draw(st.integers(0, 30)),
                  min_notice=timedelta(hours=draw(st.integers(0, 72))),
                  horizon_days=draw(st.integers(1, 21)))
    first_day = now.astimezone(zone).date()
    last_day = first_day + timedelta(days=rules.horizon_days)

    def interval(min_hours=1, max_hours=72):
        start = now + timedelta(minutes=draw(st.integers(-600, (rules.horizon_days + 1) * 1440)))
        return start, start + timedelta(minutes=draw(st.integers(min_hours * 15, max_hours * 60)))

    blocks = [interval() for _ in range(draw(st.integers(0, 3)))]
    busy = [interval(1, 2) for _ in range(draw(st.integers(0, 4)))]
    extras = [Interval(*interval(1, 10), video=True, in_person=draw(st.booleans()))
              for _ in range(draw(st.integers(0, 3)))]
    closed = set(draw(st.lists(st.integers(0, rules.horizon_days), max_size=5)))
    closed_days = {first_day + timedelta(days=offset) for offset in closed}
    return dict(rules=rules, windows=draw(st.lists(windows(), max_size=6)), zone=zone,
                first_day=first_day, last_day=last_day, now=now, closed_days=closed_days,
                blocks=blocks, extras=extras, busy=busy)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_published_slots_obey_every_rule(case):
    slots = generate_slots(**case)
    rules, zone, now = case["rules"], case["zone"], case["now"]
    length = timedelta(minutes=rules.slot_minutes)
    gap = timedelta(minutes=rules.buffer_minutes)
    horizon_last_day = now.astimezone(zone).date() + timedelta(days=rules.horizon_days)
    for slot in slots:
        assert slot.end - slot.start == length
        assert slot.start >= now + rules.min_notice, "starts before the minimum notice"
        assert slot.start.astimezone(zone).date() <= horizon_last_day, "after the horizon"
        assert slot.start.astimezone(zone).date() not in case["closed_days"], "on a closed day"
        for start, end in case["blocks"]:
            assert not overlaps(slot.start, slot.end, start, end), "inside a block"
        for start, end in case["busy"]:
            assert not overlaps(slot.start - gap, slot.end + gap, start, end), "on a booked time"
        assert slot.video or slot.in_person
        day = slot.start.astimezone(zone).date()
        inside_window = any(
            w.weekday == day.weekday()
            and local_instant(day, w.start, zone) <= slot.start
            and slot.end <= local_instant(day, w.end, zone)
            for w in case["windows"])
        inside_extra = any(e.start <= slot.start and slot.end <= e.end for e in case["extras"])
        assert inside_window or inside_extra, "outside every window"
    for earlier, later in zip(slots, slots[1:], strict=False):
        assert earlier.end + gap <= later.start, "slots overlap or break the buffer"


def test_a_simple_afternoon():
    zone = ZoneInfo("America/Cuiaba")
    now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)  # Monday 08:00 in Cuiabá
    slots = generate_slots(
        rules=Rules(slot_minutes=30, buffer_minutes=10, min_notice=timedelta(hours=24),
                    horizon_days=7),
        windows=[Window(1, time(14), time(16), video=True, in_person=False)],
        zone=zone, first_day=date(2027, 3, 1), last_day=date(2027, 3, 8), now=now)
    assert [s.start.astimezone(zone).strftime("%a %H:%M") for s in slots] == [
        "Tue 14:00", "Tue 14:40", "Tue 15:20"]
    assert slots[0].start == datetime(2027, 3, 2, 18, 0, tzinfo=UTC)  # 14:00 in Cuiabá is 18:00Z
    assert slots[0].modes == ["video"]


def test_booked_time_splits_the_window_and_keeps_the_grid():
    zone = ZoneInfo("America/Cuiaba")
    now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    booked = (datetime(2027, 3, 2, 18, 30, tzinfo=UTC), datetime(2027, 3, 2, 19, 15, tzinfo=UTC))
    slots = generate_slots(
        rules=Rules(slot_minutes=30, min_notice=timedelta(0), horizon_days=3),
        windows=[Window(1, time(14), time(17))], zone=zone, first_day=date(2027, 3, 2),
        last_day=date(2027, 3, 2), now=now, busy=[booked])
    assert [s.start.astimezone(zone).strftime("%H:%M") for s in slots] == [
        "14:00", "15:15", "15:45", "16:15"]


def test_a_short_block_between_two_slots_does_not_shorten_the_buffer():
    """Found by the property above: a 10-minute block right after a slot let the next slot
    start when the block ended, 10 minutes after the first, not the 20 of the buffer."""
    zone = ZoneInfo("America/Cuiaba")
    block = (datetime(2027, 3, 2, 18, 30, tzinfo=UTC), datetime(2027, 3, 2, 18, 40, tzinfo=UTC))
    slots = generate_slots(
        rules=Rules(slot_minutes=30, buffer_minutes=20, min_notice=timedelta(0), horizon_days=3),
        windows=[Window(1, time(14), time(17))], zone=zone, first_day=date(2027, 3, 2),
        last_day=date(2027, 3, 2), now=datetime(2027, 3, 1, tzinfo=UTC), blocks=[block])
    assert [s.start.astimezone(zone).strftime("%H:%M") for s in slots] == [
        "14:00", "14:50", "15:40", "16:30"]


def test_wall_clock_times_survive_a_daylight_saving_change():
    """São Paulo left DST on 17 Feb 2019: 14:00 stays 14:00, the UTC instant moves."""
    zone = ZoneInfo("America/Sao_Paulo")
    now = datetime(2019, 2, 10, 12, 0, tzinfo=UTC)
    slots = generate_slots(
        rules=Rules(slot_minutes=60, min_notice=timedelta(0), horizon_days=14),
        windows=[Window(0, time(14), time(15))], zone=zone, first_day=date(2019, 2, 10),
        last_day=date(2019, 2, 24), now=now)
    assert [s.start.astimezone(zone).strftime("%Y-%m-%d %H:%M") for s in slots] == [
        "2019-02-11 14:00", "2019-02-18 14:00"]
    assert slots[0].start == datetime(2019, 2, 11, 16, 0, tzinfo=UTC)  # UTC-2 in summer time
    assert slots[1].start == datetime(2019, 2, 18, 17, 0, tzinfo=UTC)  # UTC-3 after it
    assert all(s.end - s.start == timedelta(hours=1) for s in slots)


def test_a_window_across_the_spring_forward_gap_is_shorter_in_real_time():
    """4 Nov 2018 in São Paulo had no 00:00-00:59; a window over the gap loses that hour."""
    zone = ZoneInfo("America/Sao_Paulo")
    gap_day = date(2018, 11, 4)
    assert local_instant(gap_day, time(0, 30), zone) == local_instant(gap_day, time(1, 30), zone)
    slots = generate_slots(
        rules=Rules(slot_minutes=60, min_notice=timedelta(0), horizon_days=7),
        windows=[Window(6, time(0), time(3))], zone=zone, first_day=gap_day,
        last_day=gap_day, now=datetime(2018, 11, 1, tzinfo=UTC))
    assert [s.start.astimezone(zone).strftime("%H:%M") for s in slots] == ["01:00", "02:00"]


def test_extra_opening_beside_a_window_never_overlaps_it():
    zone = ZoneInfo("America/Cuiaba")
    extra = Interval(datetime(2027, 3, 2, 19, 0, tzinfo=UTC),
                     datetime(2027, 3, 2, 21, 0, tzinfo=UTC), video=False, in_person=True)
    slots = generate_slots(
        rules=Rules(slot_minutes=45, min_notice=timedelta(0), horizon_days=3),
        windows=[Window(1, time(14), time(16))], zone=zone, first_day=date(2027, 3, 2),
        last_day=date(2027, 3, 2), now=datetime(2027, 3, 1, tzinfo=UTC), extras=[extra])
    for earlier, later in zip(slots, slots[1:], strict=False):
        assert earlier.end <= later.start
    assert any(s.in_person and not s.video for s in slots)


def test_nothing_on_a_closed_day_even_for_an_extra_opening():
    zone = ZoneInfo("America/Cuiaba")
    extra = Interval(datetime(2027, 3, 2, 13, 0, tzinfo=UTC),
                     datetime(2027, 3, 2, 20, 0, tzinfo=UTC))
    slots = generate_slots(
        rules=Rules(slot_minutes=30, min_notice=timedelta(0), horizon_days=3),
        windows=[Window(1, time(8), time(12))], zone=zone, first_day=date(2027, 3, 2),
        last_day=date(2027, 3, 2), now=datetime(2027, 3, 1, tzinfo=UTC),
        closed_days={date(2027, 3, 2): "Feriado municipal"}, extras=[extra])
    assert slots == []
