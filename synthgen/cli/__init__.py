"""The ``synthgen`` command line: thin commands (parse, call :mod:`synthgen.release` or the library, print).

Human text goes to stderr, machine JSON to stdout (or ``--json-out FILE``); see :mod:`.output` for the exit codes.
Heavy libraries (pandas, torch, scikit-learn, Great Expectations) are imported inside the commands, so that
``synthgen --help`` answers at once. Where a change goes: a new command is a function in one of the command modules
(``models``, ``schema``, ``evaluation``, ``releases``, ``ledger``, ``split``) added to :func:`main` below; a new flag
is an option on its command; a new release step is a function in :mod:`synthgen.release.pipeline`.
"""
from __future__ import annotations

import click

from .. import __version__
from . import audit, evaluation, ledger, models, recommend, releases, schema, split
from .output import EXIT_FAILED, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, ChecksFailed, Out
from .params import parse_params

__all__ = ["main", "parse_params", "Out", "ChecksFailed", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INTERNAL",
           "EXIT_INTERRUPTED"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="synthgen")
@click.option("--quiet", "-q", is_flag=True, help="Quiet for every subcommand.")
@click.option("--debug", is_flag=True, help="Tracebacks for every subcommand.")
def main(quiet: bool, debug: bool) -> None:
    """synthgen: differentially private synthetic data, measured and gated before release.

    Exit codes: 0 pass, 1 checks failed or budget would be overspent, 2 usage/input error, 3 internal error,
    130 interrupted. Seeds (--seed) seed initialisation and sampling only, never privacy noise.
    """


for _cmd in (models.generators_cmd, models.fit_cmd, models.sample_cmd, schema.schema_grp, evaluation.evaluate_cmd,
             evaluation.validate_cmd, releases.run_cmd, releases.demo_cmd, ledger.ledger_grp, audit.audit_cmd,
             split.split_cmd, recommend.recommend_cmd):
    main.add_command(_cmd)
