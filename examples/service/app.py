"""An example web service on rectflow: FastAPI, one AsyncLedger per process.

The integration reference of the how-to "Embed rectflow in a web service"
(docs/howto/web-service.md). Run it with::

    pip install 'rectflow[web,postgres]'
    RECTFLOW_LEDGER=postgresql://user@host/db uvicorn app:app --app-dir examples/service

Endpoints:

* ``POST /inspections`` and ``POST /findings``: add them.
* ``POST /findings/{id}/events``: fire an event (``at`` left out: the ledger's clock).
* ``GET /findings/{id}``: the finding.
* ``GET /inspections/{id}/report``: the report (``?as_of=``).
* ``GET /agenda``: what is due or overdue (``?as_of=&inspection=``), each item with its id.
* ``POST /imports``: the request body is the file (``?actor=&format=&inspection=&dry_run=``).
* ``GET /events``: the chain after a cursor (``?cursor=&limit=``).

Errors map to HTTP statuses in one place, :data:`STATUS`.
"""

from __future__ import annotations

import os
import pathlib
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import attrs
from fastapi import Body, FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rectflow import (
    ConcurrencyConflict,
    DuplicateId,
    Finding,
    FindingNotFound,
    InspectionNotFound,
    InvalidInput,
    Owner,
    PermissionDenied,
    RectflowError,
    RuleViolation,
    StorageError,
    TransitionNotAllowed,
    WorkflowMismatch,
)
from rectflow.aio import AsyncLedger

STATUS: tuple[tuple[type[RectflowError], int], ...] = (
    (ConcurrencyConflict, 409),  # someone else changed the finding first: read it, retry
    (DuplicateId, 409),  # the id exists
    (WorkflowMismatch, 409),  # the ledger records another workflow definition
    (PermissionDenied, 403),  # the actor lacks the role
    (FindingNotFound, 404),
    (InspectionNotFound, 404),
    (TransitionNotAllowed, 422),  # not allowed in the finding's state
    (RuleViolation, 422),  # a rule refused it (``rule`` names it)
    (InvalidInput, 400),  # malformed input, bad files (LedgerFileError) and policies
    (StorageError, 503),  # the database: retry later
)
"""rectflow's errors and their HTTP statuses, the first match wins (subclasses first)."""


def status_of(exc: RectflowError) -> int:
    """The HTTP status of a rectflow error (500 for one not in :data:`STATUS`)."""
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 500)


def error_body(exc: RectflowError) -> dict[str, Any]:
    """The JSON of an error: its type, message and structured fields."""
    body: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)}
    for field in ("rule", "finding_id", "event", "expected", "actual", "field", "id", "role"):
        value = getattr(exc, field, None)
        if value is not None and value != "":
            body[field] = value
    return body


class InspectionIn(BaseModel):
    """``POST /inspections``."""

    id: str
    title: str
    feedback_at: str
    declared_findings: int | None = None
    actor: str | None = None
    at: str | None = None


class OwnerIn(BaseModel):
    """A finding's owner."""

    leader: str
    department: str
    person: str


class FindingIn(BaseModel):
    """``POST /findings``."""

    id: str
    inspection: str
    title: str
    kind: str
    owner: OwnerIn
    deadline: str
    actor: str
    at: str | None = None


class EventIn(BaseModel):
    """``POST /findings/{id}/events``: the event and its arguments."""

    event: str
    actor: str
    at: str | None = None
    note: str | None = None
    evidence: list[str] = Field(default_factory=list)
    expected_version: int | None = None
    arguments: dict[str, str | int] = Field(default_factory=dict)


def finding_json(finding: Finding) -> dict[str, Any]:
    """A finding as JSON."""
    data: dict[str, Any] = jsonable_encoder(attrs.asdict(finding, recurse=True))
    return data


def create_app(target: str, **options: Any) -> FastAPI:
    """The service on the ledger at *target*; *options* go to ``AsyncLedger.open``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncLedger.open(target, **options) as ledger:
            app.state.ledger = ledger
            yield

    app = FastAPI(title="rectflow example service", lifespan=lifespan)

    def ledger_of(request: Request) -> AsyncLedger:
        found: AsyncLedger = request.app.state.ledger
        return found

    @app.exception_handler(RectflowError)
    async def rectflow_error(_: Request, exc: RectflowError) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        body = {"error": "InvalidInput", "message": "bad request", "detail": exc.errors()}
        return JSONResponse(jsonable_encoder(body), status_code=400)

    @app.post("/inspections", status_code=201)
    async def add_inspection(request: Request, body: InspectionIn) -> dict[str, Any]:
        ledger = ledger_of(request)
        inspection = await ledger.add_inspection(
            body.id,
            title=body.title,
            feedback_at=body.feedback_at,
            declared_findings=body.declared_findings,
            actor=body.actor,
            at=body.at,
        )
        data: dict[str, Any] = jsonable_encoder(attrs.asdict(inspection))
        return data

    @app.post("/findings", status_code=201)
    async def add_finding(request: Request, body: FindingIn) -> dict[str, Any]:
        finding = await ledger_of(request).add_finding(
            body.id,
            inspection=body.inspection,
            title=body.title,
            kind=body.kind,
            owner=Owner(**body.owner.model_dump()),
            deadline=body.deadline,
            actor=body.actor,
            at=body.at,
        )
        return finding_json(finding)

    @app.post("/findings/{finding_id}/events")
    async def fire(request: Request, finding_id: str, body: EventIn) -> dict[str, Any]:
        finding = await ledger_of(request).fire(
            finding_id,
            body.event,
            actor=body.actor,
            at=body.at,
            note=body.note,
            evidence=body.evidence,
            expected_version=body.expected_version,
            **body.arguments,
        )
        return finding_json(finding)

    @app.get("/findings/{finding_id}")
    async def get_finding(request: Request, finding_id: str) -> dict[str, Any]:
        return finding_json(await ledger_of(request).get(finding_id))

    @app.get("/inspections/{inspection_id}/report")
    async def report(
        request: Request, inspection_id: str, as_of: str | None = None
    ) -> dict[str, Any]:
        found = await ledger_of(request).report(inspection_id, as_of=as_of)
        return found.to_dict()

    @app.get("/agenda")
    async def agenda(
        request: Request, as_of: str | None = None, inspection: str | None = None
    ) -> dict[str, Any]:
        found = await ledger_of(request).agenda(as_of=as_of, inspection=inspection)
        return found.to_dict()

    @app.post("/imports")
    async def import_file(
        request: Request,
        data: Annotated[bytes, Body(media_type="application/octet-stream")],
        actor: Annotated[str, Query()],
        format: Annotated[str, Query()],  # noqa: A002 - the ledger's own argument name
        inspection: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        if format not in ("csv", "xlsx", "yaml"):
            raise InvalidInput(f"format must be csv, xlsx or yaml, not {format!r}", field="format")
        with tempfile.TemporaryDirectory() as folder:
            path = pathlib.Path(folder) / f"upload.{format}"
            path.write_bytes(data)
            summary = await ledger_of(request).import_file(
                path, actor=actor, format=format, inspection=inspection, dry_run=dry_run
            )
        result = summary.to_dict()
        result.pop("file", None)  # a temporary path
        return result

    @app.get("/events")
    async def events(request: Request, cursor: int = 0, limit: int = 100) -> dict[str, Any]:
        page = await ledger_of(request).events_since(cursor, limit=limit)
        return {
            "cursor": page.cursor,
            "events": [
                {
                    "seq": entry.seq,
                    "hash": entry.hash,
                    "finding": entry.event.finding_id,
                    "name": entry.event.name,
                    "at": entry.event.at.isoformat(),
                    "actor": entry.event.actor,
                    "version": entry.event.version,
                }
                for entry in page.entries
            ],
        }

    return app


app = create_app(os.environ.get("RECTFLOW_LEDGER", "rectflow.db"))
"""The app uvicorn serves: the ledger named by ``RECTFLOW_LEDGER`` (opened at startup)."""
