"""Type-checked (mypy --strict), never run: actors, roles, signed heads, evidence (issue 8)."""

from __future__ import annotations

from rectflow import (
    ROLES,
    Actor,
    Grant,
    Ledger,
    PermissionDenied,
    SignedHead,
    Verification,
    hash_evidence,
)


def use_roles(ledger: Ledger) -> None:
    actor: Actor = ledger.add_actor("巡察办", roles=["inspector", "leader"])
    ledger.add_actor("郭主任", roles="owner", inspection="R1", actor=actor.name)
    grants: list[Grant] = ledger.grants("郭主任")
    revoked: bool = grants[0].revoked_in is not None
    ledger.revoke_role("郭主任", "owner", inspection="R1", actor="巡察办", note=str(revoked))
    mode: bool = ledger.roles_mode
    roles: tuple[str, ...] = ROLES
    ledger.submit_report("R1", actor="张校长", evidence=[hash_evidence("报告.pdf")])
    ledger.change_inspection("R1", declared_findings=28, reason="更正", actor="巡察办")
    try:
        ledger.fire("1.1.1", "sign_off", actor="郭主任")
    except PermissionDenied as denied:
        needed: tuple[str, ...] = denied.needed
        who: str = denied.actor
        del mode, roles, needed, who


def use_anchor(ledger: Ledger, key: bytes) -> None:
    signed: SignedHead = ledger.signed_head(key)
    text: str = str(signed)
    mac: str | None = signed.mac
    result: Verification = ledger.verify(text, key=key, evidence_dir="evidence")
    ok: bool = result.ok
    del mac, ok
