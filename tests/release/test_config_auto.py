"""`generator: {name: auto}` in a release config resolves, from the declared schema only, to the generator
`synthgen recommend` names (issue 13 part 3: the release config recommends the generator that suits a table)."""
from __future__ import annotations

from importlib import resources

from synthgen.generators.recommend import recommend
from synthgen.release.config import release_config_from_dict
from synthgen.schema import Schema


def _doc(schema_path: str, name: str, params: dict | None = None) -> dict:
    return {"data": {"train": "train.csv"}, "schema": schema_path,
            "generator": {"name": name, "params": params or {}},
            "privacy": {"epsilon": 1.0}, "evaluation": {"target": "dead"}, "outputs": {"dir": "out"}}


def _schema_file() -> str:
    return str(resources.files("synthgen.data").joinpath("nasscds.schema.json"))


def test_auto_resolves_to_the_recommendation_with_the_target():
    path = _schema_file()
    cfg = release_config_from_dict(_doc(path, "auto"))
    rec = recommend(Schema.from_json(open(path).read()), epsilon=1.0, target="dead")
    assert cfg.generator == rec.generator != "auto"
    assert cfg.recommended["reasons"] == list(rec.reasons) and cfg.recommended["reasons"]
    assert "epsilon" not in cfg.params  # the budget stays the config's privacy block
    assert all(cfg.params[k] == v for k, v in rec.params.items() if k not in ("epsilon", "delta"))


def test_the_configs_own_params_win_and_a_named_generator_is_untouched():
    path = _schema_file()
    cfg = release_config_from_dict(_doc(path, "auto", {"target": None, "n_bins": 8}))
    assert cfg.params["n_bins"] == 8 and cfg.params["target"] is None
    named = release_config_from_dict(_doc(path, "dp-copula"))
    assert named.generator == "dp-copula" and named.recommended is None
