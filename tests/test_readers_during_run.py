"""The demo world through the real command line, day after day, with a reader beside the
running pipeline (DuckDB has one writer): a reader of the published feeds is never
blocked by a run, never blocks it, and never sees half a publication."""

from __future__ import annotations

import pytest
from conftest import query
from daily_runs import DemoDays, read_publication

# a read of every feed takes milliseconds; a reader stuck behind the pipeline would not
SLOWEST_READ_SECONDS = 2.0

pytestmark = pytest.mark.slow


def test_daily_runs_of_the_demo_world_with_a_reader_beside_them(demo_days: DemoDays) -> None:
    first, second = demo_days.first, demo_days.second
    db, feeds = demo_days.site.db, demo_days.site.feeds
    yesterday = demo_days.yesterday
    ran = demo_days.days[0]
    assert ran.returncode == 0, ran.output[-3000:]
    assert not ran.torn, ran.torn
    assert all(publication is None or publication[0] == first.name for publication in ran.seen)
    [(loaded,)] = query(yesterday.db, "SELECT sum(rows_loaded) FROM raw.load_log")
    assert loaded > 1000
    assert query(yesterday.db, "SELECT count(*) FROM raw.quarantine") == [(0,)]
    # the run ends by publishing the feeds its data supports, from a real dbt build
    as_of, rows = read_publication(yesterday.feeds)
    assert as_of == first.name
    assert {"kpi_daily", "customer_360", "demand_forecast"} <= set(rows)

    ran = demo_days.days[1]
    assert ran.returncode == 0, ran.output[-3000:]
    assert not ran.torn, ran.torn
    seen = ran.seen
    assert len(seen) > 20, "the reader should have read many times during the run"
    # every read was a whole publication: yesterday's until the switch, never a mix
    as_of_dates = [publication[0] for publication in seen]
    assert as_of_dates[0] == first.name
    assert set(as_of_dates) <= {first.name, second.name}
    switched = as_of_dates.index(second.name) if second.name in as_of_dates else len(seen)
    assert all(d == first.name for d in as_of_dates[:switched])
    assert all(d == second.name for d in as_of_dates[switched:])
    slowest = ran.slowest_read
    assert slowest < SLOWEST_READ_SECONDS, f"a read took {slowest:.2f} s during the run"
    assert read_publication(feeds)[0] == second.name
    [(days_loaded,)] = query(db, "SELECT count(DISTINCT drop_date) FROM raw.load_log")
    assert days_loaded == 2
