"""``python -m bench <benchmark> [options]``: see bench/__init__.py, and ``--help`` of each benchmark."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.cases import chat, shutdown, store
from bench.harness import run_on_loadgen_core
from bench.report import RESULTS, Report

BENCHMARKS: dict[str, ModuleType] = {"chat": chat, "store": store, "shutdown": shutdown}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="benchmark", required=True)
    for name, module in BENCHMARKS.items():
        doc = module.__doc__ or name
        sub = commands.add_parser(
            name,
            help=doc.splitlines()[0],
            description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.add_argument(
            "--results",
            type=Path,
            default=RESULTS,
            help="Markdown file whose block for this benchmark the run replaces (default: bench/RESULTS.md)",
        )
        sub.add_argument("--no-results", action="store_true", help="print only; leave the results file")
    args = parser.parse_args(argv)
    report = Report(args.benchmark, results=None if args.no_results else args.results)
    run: Callable[[argparse.Namespace, Report], Coroutine[Any, Any, int]] = BENCHMARKS[args.benchmark].run
    return run_on_loadgen_core(run(args, report))


if __name__ == "__main__":
    sys.exit(main())
