"""Who may do what: ``add-actor``, ``revoke-role``."""

from __future__ import annotations

import argparse

from rectflow._cli.app import command, open_ledger, out
from rectflow._cli.words import t
from rectflow._codec import unstructure


def _add_actor_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name")
    p.add_argument(
        "--role", action="append", required=True, help="inspector, leader, owner or checker"
    )
    p.add_argument("--inspection", help="the inspection the roles apply to (default: all)")
    p.add_argument("--actor", help="who registers them (required once actors exist)")
    p.add_argument("--at", help="ISO-8601 time with offset (default: now)")
    p.add_argument("--note")


@command("add-actor", help="register an actor with roles", arguments=_add_actor_arguments)
def _add_actor(args: argparse.Namespace) -> int:
    with open_ledger(args) as ledger:
        actor = ledger.add_actor(
            args.name,
            roles=args.role,
            inspection=args.inspection,
            actor=args.actor,
            at=args.at,
            note=args.note,
        )
        grants = [unstructure(g) for g in ledger.grants(actor.name)]
    roles = ", ".join(sorted(args.role))
    out(
        args,
        {"actor": unstructure(actor), "grants": grants},
        t("actor_added", args.lang, name=actor.name, roles=roles),
    )
    return 0


def _revoke_role_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name")
    p.add_argument("role")
    p.add_argument("--inspection")
    p.add_argument("--actor", required=True)
    p.add_argument("--at")
    p.add_argument("--note")


@command("revoke-role", help="revoke an actor's role", arguments=_revoke_role_arguments)
def _revoke_role(args: argparse.Namespace) -> int:
    with open_ledger(args) as ledger:
        ledger.revoke_role(
            args.name,
            args.role,
            inspection=args.inspection,
            actor=args.actor,
            at=args.at,
            note=args.note,
        )
        grants = [unstructure(g) for g in ledger.grants(args.name)]
    out(
        args,
        {"name": args.name, "grants": grants},
        t("role_revoked", args.lang, name=args.name, role=args.role),
    )
    return 0
