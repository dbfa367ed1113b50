"""Benchmark: add_workdays via the calendar's index vs a naive day-by-day loop.

Run with ``.venv/bin/python benchmarks/bench_calendar.py``. Prints, for each n,
the median time per call (over several repeats) of ``china().add_workdays``
and of a loop that steps one day at a time asking ``is_workday``, and their
ratio. Both must agree on the result.
"""

from __future__ import annotations

import statistics
import sys
import timeit
from datetime import date, timedelta
from pathlib import Path

try:
    from rectflow.calendar import WorkCalendar, china
except ImportError:  # not installed: run from the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from rectflow.calendar import WorkCalendar, china

REPEATS = 7
START = date(2024, 1, 15)
COUNTS = (10, 100, 1000)


def naive_add_workdays(cal: WorkCalendar, d: date, n: int) -> date:
    """The n-th working day strictly after d, one day at a time (n >= 1)."""
    left = n
    while left:
        d += timedelta(days=1)
        left -= cal.is_workday(d)
    return d


def median_per_call(fn, number: int) -> float:
    """Median over REPEATS runs of the time per call, in microseconds."""
    runs = timeit.repeat(fn, number=number, repeat=REPEATS)
    return statistics.median(runs) / number * 1e6


def main() -> None:
    cal = china()
    cal.add_workdays(START, 1)  # build the index outside the timing
    print(f"add_workdays from {START}, median of {REPEATS} repeats, microseconds per call")
    print(f"{'n':>6} {'index':>10} {'naive':>10} {'naive/index':>12}  result")
    for n in COUNTS:
        fast = cal.add_workdays(START, n)
        slow = naive_add_workdays(cal, START, n)
        assert fast == slow, (n, fast, slow)
        t_index = median_per_call(lambda n=n: cal.add_workdays(START, n), number=20000)
        t_naive = median_per_call(
            lambda n=n: naive_add_workdays(cal, START, n), number=max(20, 20000 // n)
        )
        print(f"{n:>6} {t_index:>10.2f} {t_naive:>10.2f} {t_naive / t_index:>11.0f}x  {fast}")


if __name__ == "__main__":
    main()
