"""The JSON Schemas and bundled schemas ship inside the wheel and load from an installed copy."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"),
                            str(ROOT)], capture_output=True, text=True, timeout=300)
    if build.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{build.stderr[-2000:]}")
    wheel = next((tmp / "dist").glob("synthgen-*.whl"))
    target = tmp / "site"
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                           str(wheel)], capture_output=True, text=True, timeout=300)
    assert inst.returncode == 0, inst.stderr[-2000:]
    return target


def test_schemas_load_from_installed_wheel(installed, tmp_path):
    code = textwrap.dedent("""
        import synthgen, synthgen.resources as r, synthgen.datasets as d
        assert "site" in synthgen.__file__, synthgen.__file__
        for name in ("table", "ledger", "manifest"):
            assert r.load_json_schema(name)["$schema"].startswith("https://json-schema.org")
        assert d.load_schema("cps1988").name == "cps1988"
        import importlib.resources as ir
        assert ir.files("synthgen.schemas").joinpath("table.schema.json").is_file()
        print("ok")
    """)
    # Run outside the source tree so that only the installed copy can be imported.
    import os
    env = dict(os.environ, PYTHONPATH=str(installed), PYTHONNOUSERSITE="1")
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(installed)!r}); "
                          + code.replace("\n", "\n")], cwd=tmp_path, capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")


def test_every_package_folder_is_shipped(installed):
    for init in list(ROOT.glob("synthgen/**/__init__.py")) + list(ROOT.glob("evaluators/**/__init__.py")):
        rel = init.parent.relative_to(ROOT)
        assert (installed / rel / "__init__.py").exists(), \
            f"package {'.'.join(rel.parts)} is missing from the wheel: add it to [tool.setuptools] packages"
