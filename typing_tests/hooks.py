"""Type-checked (mypy --strict), never run: hooks, the event cursor, AsyncLedger (issue 16)."""

from __future__ import annotations

from collections.abc import Callable

from rectflow import AgendaItem, ChainEntry, Event, EventPage, Finding, Ledger, Owner
from rectflow.aio import AsyncLedger


def use_hooks(ledger: Ledger) -> None:
    seen: list[str] = []

    def on_event(event: Event) -> None:
        seen.append(event.name)

    stop: Callable[[], None] = ledger.subscribe(on_event, events=["sign_off", "add"])
    stop()
    page: EventPage = ledger.events_since(0, limit=100)
    entries, cursor = page
    first: ChainEntry = entries[0]
    seq: int = first.seq + cursor
    events: tuple[Event, ...] = page.events
    item: AgendaItem = ledger.agenda().items[0]
    key: str = item.id
    seen.extend([str(seq), str(len(events)), key])


async def use_async() -> tuple[int, int, int]:
    async with AsyncLedger.open("rectflow.db", lang="en") as ledger:
        owner = Owner(leader="Head", department="Estates", person="Wang")
        await ledger.add_inspection("R1", title="Inspection", feedback_at="2024-03-01")
        added: Finding = await ledger.add_finding(
            "F1",
            inspection="R1",
            title="Lights",
            kind="deadline",
            owner=owner,
            deadline="2 months",
            actor="Office",
        )
        done: Finding = await ledger.fire("F1", "start", actor="Wang", expected_version=1)
        async with ledger.batch() as same:
            await same.fire("F1", "record_measure", actor="Wang", measure="M1")
        page: EventPage = await ledger.events_since(0)
    later = await AsyncLedger.open(":memory:")
    await later.close()
    return added.version, done.version, page.cursor
