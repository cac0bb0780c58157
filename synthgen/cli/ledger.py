"""``synthgen ledger init``, ``show`` and ``verify``.

A ledger holds budgets and spends, no data. ``verify`` checks it end to end (schema, the hash chain from the
budget header to the head, references, budget). Threat model: this detects accidents and tampering by others
(a raised budget, deleted or edited charges); it cannot stop a forger who rewrites the whole file and its chain.
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
                f"{c['generator']}: {c['purpose']}")
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
    out.emit({"status": "ok", "ok": True, "ledger": str(path), "problems": [], **info})
