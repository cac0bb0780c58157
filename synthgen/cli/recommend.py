"""``synthgen recommend`` and ``--generator auto``: the generator that suits a DECLARED schema
(:func:`synthgen.generators.recommend.recommend`). Privacy: a function of the declared schema only (kinds,
cardinalities, declared ranges and rows): no data is read and no budget is spent.
"""
from __future__ import annotations

from typing import Any

import click

from .output import Out, common


@click.command("recommend")
@click.option("--schema", "schema_path", required=True, type=click.Path(), help="Declared schema JSON.")
@click.option("--epsilon", type=float, default=None, help="The epsilon the fit will spend (it changes the choice).")
@click.option("--target", default=None, help="The column a downstream model will predict.")
@common
def recommend_cmd(out: Out, schema_path: str, epsilon: float | None, target: str | None) -> None:
    """Recommend a DP generator and its parameters for a declared schema (reads no data, spends nothing)."""
    from ..generators.recommend import recommend
    from ..release import pipeline

    rec = recommend(pipeline.load_schema(schema_path), epsilon=epsilon, target=target)
    out.say(f"generator: {rec.generator}")
    out.say(f"params: {dict(rec.params)}")
    for reason in rec.reasons:
        out.say(f"- {reason}")
    out.emit({"status": "ok", **rec.to_json()})


def resolve_auto(out: Out, generator: str, schema_path: str | None, epsilon: float | None,
                 params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``--generator auto`` -> (recommended name, its parameters overridden by the user's --param values)."""
    if generator != "auto":
        return generator, params
    from ..exceptions import ConfigError
    from ..generators.recommend import recommend
    from ..release import pipeline

    if schema_path is None:
        raise ConfigError("--generator auto needs --schema (the recommendation reads the declared schema only).")
    rec = recommend(pipeline.load_schema(schema_path), epsilon=epsilon)
    out.say(f"generator auto -> {rec.generator} ({'; '.join(rec.reasons)})")
    return rec.generator, {**{k: v for k, v in rec.params.items() if k != "epsilon"}, **params}
