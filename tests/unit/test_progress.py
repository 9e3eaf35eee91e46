"""Large deliveries report progress while they stream, without changing what lands."""

from __future__ import annotations

from collections.abc import Iterator

from marketpulse.pipeline import counted


def test_a_progress_line_every_n_records_and_the_records_unchanged() -> None:
    said: list[str] = []
    pulled: list[int] = []

    def records() -> Iterator[dict[str, int]]:
        for n in range(7):
            pulled.append(n)
            yield {"n": n}

    stream = counted(records(), "bronze: prices_daily", said.append, every=3)
    assert pulled == []  # lazy: nothing is read before the writer asks
    assert [r["n"] for r in stream] == list(range(7))
    assert [line.split(" (")[0] for line in said] == [
        "bronze: prices_daily: 3 records so far",
        "bronze: prices_daily: 6 records so far",
    ]
    assert all(line.endswith("/s)") for line in said)
