"""The example service through httpx (its ASGI transport), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

if not os.environ.get("CI"):  # CI installs every extra: there a missing one fails
    pytest.importorskip("fastapi", reason="needs the web extra: pip install 'rectflow[web]'")

import httpx

import rectflow
from app import STATUS, create_app, status_of
from rectflow import Policy

R1 = {
    "id": "R1",
    "title": "县委巡察",
    "feedback_at": "2024-01-05",
    "at": "2024-01-05T10:00:00+08:00",
}
OWNER = {"leader": "刘副校长", "department": "德育处", "person": "黄主任"}
CSV = (
    "序号,问题描述,整改类型,责任领导,责任部门,责任人,整改时限,整改措施,状态\n"
    "2.1,问题一,限期整改,刘副校长,德育处,黄主任,2024-03-31,召开会议,整改中\n"
    "2.2,问题二,立行立改,刘副校长,德育处,王老师,2024-02-15,开会,已交办\n"
)


def served(target: str, test: Callable[[httpx.AsyncClient], Awaitable[None]]) -> None:
    """Run *test* with a client of the service on *target*, started and stopped around it."""

    async def main() -> None:
        app = create_app(target, policy=Policy(calendar="weekdays"))
        async with app.router.lifespan_context(app):  # opens and closes the ledger
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
                client.app = app  # type: ignore[attr-defined]
                await test(client)

    asyncio.run(main())


def finding(fid: str = "F1", deadline: str = "2024-02-29") -> dict[str, Any]:
    """A finding to POST."""
    return {
        "id": fid,
        "inspection": "R1",
        "title": f"问题{fid}",
        "kind": "deadline",
        "owner": OWNER,
        "deadline": deadline,
        "actor": "巡察办",
        "at": "2024-01-08T09:00:00+08:00",
    }


async def fire(client: httpx.AsyncClient, fid: str, event: str, **body: Any) -> Any:
    """POST an event."""
    return await client.post(f"/findings/{fid}/events", json={"event": event, **body})


def test_a_finding_through_its_life(target):
    """Fire, read, report, agenda and the event cursor answer with the ledger's data."""

    async def test(client: httpx.AsyncClient) -> None:
        assert (await client.post("/inspections", json=R1)).status_code == 201
        created = await client.post("/findings", json=finding())
        assert created.status_code == 201
        assert (created.json()["state"], created.json()["version"]) == ("assigned", 1)
        assert (await client.post("/findings", json=finding("F2", "2024-01-31"))).status_code == 201
        started = await fire(client, "F1", "start", actor="黄主任", at="2024-01-09T09:00:00+08:00")
        assert started.status_code == 200
        assert started.json()["state"] == "in_progress"
        done = await fire(
            client,
            "F1",
            "submit",
            actor="黄主任",
            at="2024-01-10T09:00:00+08:00",
            evidence=["a.pdf"],
        )
        assert done.json()["state"] == "pending_signoff"
        signed = await fire(
            client, "F1", "sign_off", actor="刘副校长", at="2024-01-11T09:00:00+08:00"
        )
        assert signed.json()["state"] == "completed"
        assert (await client.get("/findings/F1")).json()["version"] == 4

        report = (await client.get("/inspections/R1/report", params={"as_of": "2024-03-01"})).json()
        assert report["inspection"] == "R1"
        agenda = (await client.get("/agenda", params={"as_of": "2024-03-01"})).json()
        items = [i for a in agenda["inspections"] for i in a["items"]]
        assert {(i["kind"], i["finding"]) for i in items} >= {("overdue", "F2")}
        assert "overdue:F2:2024-01-31" in {i["id"] for i in items}

        page = (await client.get("/events", params={"cursor": 0, "limit": 3})).json()
        assert [e["name"] for e in page["events"]] == ["add_inspection", "add", "add"]
        rest = (await client.get("/events", params={"cursor": page["cursor"]})).json()
        assert [(e["finding"], e["name"]) for e in rest["events"]] == [
            ("F1", "start"),
            ("F1", "submit"),
            ("F1", "sign_off"),
        ]
        assert rest["cursor"] == 6

    served(target, test)


def test_errors_map_to_http_statuses(target):
    """409 conflict/duplicate, 422 transition/rule, 403 permission, 404 missing, 400 bad input."""

    async def test(client: httpx.AsyncClient) -> None:
        await client.post("/inspections", json=R1)
        await client.post("/findings", json=finding())
        at = "2024-01-09T09:00:00+08:00"

        def check(response: Any, status: int, error: str) -> dict[str, Any]:
            assert response.status_code == status, response.text
            body: dict[str, Any] = response.json()
            assert body["error"] == error
            return body

        body = check(
            await fire(client, "F1", "start", actor="黄主任", at=at, expected_version=3),
            409,
            "ConcurrencyConflict",
        )
        assert (body["expected"], body["actual"]) == (3, 1)
        check(await client.post("/findings", json=finding()), 409, "DuplicateId")
        check(
            await fire(client, "F1", "sign_off", actor="刘副校长", at=at),
            422,
            "TransitionNotAllowed",
        )
        await fire(client, "F1", "start", actor="黄主任", at=at)
        await fire(client, "F1", "submit", actor="黄主任", at=at, evidence=["a.pdf"])
        body = check(
            await fire(client, "F1", "sign_off", actor="黄主任", at=at), 422, "RuleViolation"
        )
        assert body["rule"] == "signer_not_submitter"
        check(await fire(client, "nope", "start", actor="黄主任", at=at), 404, "FindingNotFound")
        check(await client.get("/inspections/R9/report"), 404, "InspectionNotFound")
        check(
            await fire(client, "F1", "sign_off", actor="刘副校长", at="yesterday"),
            400,
            "InvalidInput",
        )
        check(
            await client.post("/findings", json={"id": "F9"}), 400, "InvalidInput"
        )  # fields missing
        check(await client.get("/events", params={"cursor": -1}), 400, "InvalidInput")
        assert (await client.get("/findings/F1")).json()[
            "version"
        ] == 3  # nothing refused was stored

        # once actors are registered, roles apply: an unregistered actor is refused
        await client.post("/findings", json=finding("F2"))
        from rectflow.aio import AsyncLedger  # noqa: PLC0415

        ledger: AsyncLedger = client.app.state.ledger  # type: ignore[attr-defined]
        await ledger.add_actor("巡察办", roles=["inspector"], at=at)
        check(await fire(client, "F2", "start", actor="黄主任", at=at), 403, "PermissionDenied")

    served(target, test)


def test_import_endpoint(target):
    """A CSV body: a dry run writes nothing, the import writes every row, a bad file is 400."""

    async def test(client: httpx.AsyncClient) -> None:
        await client.post("/inspections", json=R1)
        params = {"actor": "整改办", "format": "csv", "inspection": "R1"}
        headers = {"content-type": "application/octet-stream"}
        dry = await client.post(
            "/imports", content=CSV.encode(), params={**params, "dry_run": True}, headers=headers
        )
        assert dry.status_code == 200, dry.text
        assert (dry.json()["findings_added"], dry.json()["dry_run"]) == (2, True)
        assert (await client.get("/findings/2.1")).status_code == 404
        done = await client.post("/imports", content=CSV.encode(), params=params, headers=headers)
        assert done.json()["by_state"] == {"assigned": 1, "in_progress": 1}
        assert (await client.get("/findings/2.1")).json()["state"] == "in_progress"
        assert (await fire(client, "2.2", "start", actor="王老师")).json()[
            "version"
        ] == 2  # at: the clock
        bad = await client.post(
            "/imports", content=b"\xff\xfe\x00garbage", params=params, headers=headers
        )
        assert bad.status_code == 400
        assert bad.json()["error"] == "LedgerFileError"
        again = await client.post("/imports", content=CSV.encode(), params=params, headers=headers)
        assert again.status_code in (400, 409)  # the ids exist

    served(target, test)


def test_every_rectflow_error_has_a_status():
    """Each exception rectflow defines maps to a 4xx/5xx status through STATUS."""
    errors = [
        value
        for value in vars(rectflow.exceptions).values()
        if isinstance(value, type) and issubclass(value, rectflow.RectflowError)
    ]
    mapped = {kind for kind, _ in STATUS}
    for error in errors:
        assert error is rectflow.RectflowError or any(issubclass(error, m) for m in mapped), error
    conflict = rectflow.ConcurrencyConflict("F1", 1, 2, "x")
    assert status_of(conflict) == 409
    assert status_of(rectflow.RectflowError("x")) == 500


def test_served_by_uvicorn(tmp_path):
    """``uvicorn app:app`` with ``RECTFLOW_LEDGER`` serves the ledger over real HTTP."""
    import os  # noqa: PLC0415
    import pathlib  # noqa: PLC0415
    import socket  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415
    import time  # noqa: PLC0415

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "RECTFLOW_LEDGER": str(tmp_path / "served.db")}
    here = str(pathlib.Path(__file__).parent)
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app:app", "--app-dir", here, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.post(f"{base}/inspections", json=R1, timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.2)
        assert response.status_code == 201
        missing = httpx.get(f"{base}/findings/nope", timeout=5)
        assert (missing.status_code, missing.json()["error"]) == (404, "FindingNotFound")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (tmp_path / "served.db").exists()
