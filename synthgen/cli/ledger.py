"""``synthgen ledger init``, ``show``, ``verify`` and ``resolve``.

A ledger holds budgets and spends, no data. ``verify`` checks it end to end (schema, the hash chain from the
budget header to the head, references, budget). Threat model: this detects accidents and tampering by others
(a raised budget, deleted or edited charges); it cannot stop a forger who rewrites the whole file and its chain.
``resolve`` closes reservations left pending by a killed process: committed when it may have read private data,
cancelled only when its missing ``data_read`` mark proves it had not
(:meth:`~synthgen.privacy.ledger.PrivacyLedger.resolve`).
"""
from __future__ import annotations

import click

from ..exceptions import LedgerError
from .output import ChecksFailed, Out, common


@click.group("ledger")
def ledger_grp() -> None:
    """Create, inspect and verify privacy ledgers (one per dataset)."""


@ledger_grp.command("init")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--epsilon", type=float, required=True, help="Total epsilon budget for the dataset.")
@click.option("--delta", type=float, required=True, help="Total delta budget for the dataset.")
@click.option("--dataset", default=None, help="Dataset name (default: the file name).")
@common
def ledger_init_cmd(out: Out, path: str, epsilon: float, delta: float, dataset: str | None) -> None:
    """Create a ledger file with a total (epsilon, delta) budget."""
    from ..privacy.ledger import PrivacyLedger

    led = PrivacyLedger.create(path, epsilon=epsilon, delta=delta, dataset=dataset)
    out.say(f"created ledger {path}: budget epsilon={epsilon:g}, delta={delta:g}")
    out.emit({"status": "ok", **led.to_dict()})


@ledger_grp.command("show")
@click.argument("path", type=click.Path())
@common
def ledger_show_cmd(out: Out, path: str) -> None:
    """Show a ledger's budget, spend and every charge."""
    from ..privacy.ledger import PrivacyLedger

    info = PrivacyLedger(path).to_dict()
    b, s, r = info["budget"], info["spent"], info["remaining"]
    out.say(f"ledger {path} (dataset {info['dataset']!r}, neighbouring: {info['neighbouring']})")
    out.say(f"  budget    epsilon={b['epsilon']:.4g} delta={b['delta']:.3g}")
    out.say(f"  spent     epsilon={s['epsilon']:.4g} delta={s['delta']:.3g}")
    out.say(f"  remaining epsilon={r['epsilon']:.4g} delta={r['delta']:.3g}")
    for c in info["charges"]:
        out.say(f"  {c['time']}  {c['status']:<9} eps={c['epsilon']:.4g} delta={c['delta']:.3g} "
                f"{c['generator']}: {c['purpose']}  [{c['id']}]")
    if any(c["status"] == "pending" for c in info["charges"]):
        out.say("  pending reservations count as spent; if their process was killed, close them with "
                f"`synthgen ledger resolve {path}`")
    out.emit({"status": "ok", **info})


@ledger_grp.command("verify")
@click.argument("path", type=click.Path())
@common
def ledger_verify_cmd(out: Out, path: str) -> None:
    """Check a ledger end to end: exit 0 if intact, 1 with the problems listed if it was edited or damaged."""
    from pathlib import Path

    from ..exceptions import InputError
    from ..privacy.ledger import PrivacyLedger

    if not Path(path).exists():
        raise InputError(f"Ledger file {path} does not exist; check the path.")
    try:
        info = PrivacyLedger(path).verify()
    except LedgerError as exc:
        out.say(f"ledger {path} FAILED verification: {exc}")
        out.emit({"status": "failed", "ok": False, "ledger": str(path), "problems": [str(exc)]})
        raise ChecksFailed("ledger verification") from None
    out.say(f"ledger {path} verified: {info['entries']} entries, chain intact")
    if info["pending"]:
        out.say(f"  {info['pending']} pending reservation(s) count as spent; if their process was killed, close "
                f"them with `synthgen ledger resolve {path}`")
    out.emit({"status": "ok", "ok": True, "ledger": str(path), "problems": [], **info})


@ledger_grp.command("resolve")
@click.argument("path", type=click.Path())
@click.option("--id", "entry_id", default=None, help="Resolve this reservation only (default: every pending one).")
@click.option("--force", is_flag=True,
              help="Also resolve reservations whose process still seems to run here, or ran on another host.")
@common
def ledger_resolve_cmd(out: Out, path: str, entry_id: str | None, force: bool) -> None:
    """Close reservations left pending by a killed process: exit 0 when none is left pending, 1 otherwise.

    Each is committed (charged) when the process may have read private data and cancelled (refunded) only when
    it provably had not (no data_read mark). A reservation whose process still runs is left alone unless --force.
    """
    from ..privacy.ledger import PrivacyLedger

    led = PrivacyLedger(path)
    done = led.resolve(entry_id, force=force)
    for r in done:
        out.say(f"  {r['id']}: {r['action']} ({r['reason']})")
    left = [r["id"] for r in done if r["action"] == "left"]
    out.say(f"ledger {path}: {len(done) - len(left)} reservation(s) resolved, {len(left)} left pending"
            if done else f"ledger {path}: no pending reservation")
    out.emit({"status": "failed" if left else "ok", "ledger": str(path), "resolved": done,
              "left_pending": left, "spent": led.to_dict()["spent"]})
    if left:
        raise ChecksFailed(f"{len(left)} reservation(s) left pending (their process may still be running)")
