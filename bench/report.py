"""Reporting: each case's figures as min/median/max over its runs and the ratio of medians against the
baseline measured in the same run, printed as a table and kept in bench/RESULTS.md.

RESULTS.md holds one block per benchmark between markers (``<!-- bench:chat -->`` … ``<!-- /bench:chat
-->``): a run replaces its own block (when, the command, the machine, the plan, the table and its notes) and
leaves everything else in the file, the hand-written history included, as it is.
"""

from __future__ import annotations

import re
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from bench.harness import ratio_of_medians

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
R = TypeVar("R")


@dataclass
class Sample:
    """One run's figure, with what the run counted against the server's correctness."""

    value: float
    lost: int = 0
    duplicates: int = 0
    errors: int = 0
    note: str = ""
    per_cpu: float = 0.0  # saturation: deliveries per server CPU-second (robust to a busy machine)


@dataclass
class Row:
    """A chat-case row: Homer's samples against the baseline's (the relay, or the same server unloaded)."""

    case: str
    metric: str
    homer: list[Sample]
    baseline: list[Sample] | None
    baseline_name: str
    target: str
    meets: Callable[[float], bool]
    informational: bool = False
    notes: list[str] = field(default_factory=list)

    def ratio(self) -> float | None:
        if not self.baseline:
            return None
        return ratio_of_medians([s.value for s in self.homer], [s.value for s in self.baseline])


def spread(samples: list[Sample] | None) -> str:
    if not samples:
        return "-"
    values = [s.value for s in samples]
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"


def spread_of(values: Sequence[float], fmt: str = "{:.2f}") -> str:
    return " / ".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def integrity(samples: Iterable[Sample]) -> tuple[int, int, int]:
    items = list(samples)
    return sum(s.lost for s in items), sum(s.duplicates for s in items), sum(s.errors for s in items)


def aligned(header: Sequence[str], lines: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell, separated by `` | ``, a ``-+-`` rule under the header."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=True)]
    out = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    out.append("-+-".join("-" * w for w in widths))
    out += [" | ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    return out


def chat_table(rows: list[Row]) -> str:
    header = (
        "case",
        "metric",
        "Homer min/med/max",
        "baseline min/med/max",
        "ratio",
        "target",
        "met",
        "lost/dup/err",
    )
    lines = []
    for row in rows:
        ratio = row.ratio()
        value = ratio if ratio is not None else statistics.median(s.value for s in row.homer)
        lost, dup, err = integrity(row.homer + (row.baseline or []))
        lines.append(
            (
                row.case,
                row.metric,
                spread(row.homer),
                f"{row.baseline_name}: {spread(row.baseline)}" if row.baseline else row.baseline_name,
                f"{ratio:.2f}" if ratio is not None else "-",
                row.target,
                "-" if row.informational else "yes" if row.meets(value) else "NO",
                f"{lost}/{dup}/{err}",
            )
        )
    notes = [f"  {row.case}: {note}" for row in rows for note in row.notes]
    return "\n".join(["", *aligned(header, lines), "", *notes])


@dataclass
class ScaleRow(Generic[R]):
    """A figure measured at two sizes of the same data: picked from each run's result ``R``."""

    metric: str
    pick: Callable[[R], float]
    before: str = "-"  # the figure before the change the benchmark was written for
    target: str = "reported"
    meets: Callable[[float], bool] | None = None  # judged on the worst run at the large size
    fmt: str = "{:.2f}"


def scale_table(
    rows: Sequence[ScaleRow[R]], small: list[R], large: list[R], *, sizes: tuple[int, int], before: str
) -> str:
    """Min/median/max at each size and the ratio of the medians, large / small (about the ratio of the sizes
    where a figure grows in proportion to the data)."""
    header = (
        "metric",
        f"{sizes[0]:,} min/med/max",
        f"{sizes[1]:,} min/med/max",
        "ratio",
        before,
        "target",
        "met",
    )
    lines = []
    for row in rows:
        a = [row.pick(r) for r in small]
        b = [row.pick(r) for r in large]
        med_a, med_b = statistics.median(a), statistics.median(b)
        ratio = f"{med_b / med_a:.1f}" if med_a else "-"
        met = "-" if row.meets is None else "yes" if row.meets(max(b)) else "NO"
        lines.append(
            (row.metric, spread_of(a, row.fmt), spread_of(b, row.fmt), ratio, row.before, row.target, met)
        )
    return "\n".join(["", *aligned(header, lines), ""])


class Report:
    """What a benchmark prints before and after it measures, kept for its RESULTS.md block."""

    def __init__(self, name: str, *, results: Path | None) -> None:
        self.name = name
        self.results = results
        self.started = time.gmtime()
        self.preamble: list[str] = []

    def preface(self, line: str) -> None:
        """A line printed now (machine, plan…) and kept above the table."""
        print(line, flush=True)
        self.preamble.append(line)

    def publish(self, table: str) -> None:
        print(table, flush=True)
        if self.results is not None:
            write_block(self.results, self.name, self.block(table))
            print(f"(recorded in {self.results})")

    def block(self, table: str) -> str:
        command = shlex.join(["python", "-m", "bench", *sys.argv[1:]])
        when = time.strftime("%Y-%m-%d %H:%M UTC", self.started)
        body = "\n".join([*self.preamble, "", table.strip("\n")])
        return f"Last run: {when}, `{command}`.\n\n```\n{body}\n```\n"


def write_block(path: Path, name: str, block: str) -> None:
    """Replace the block between ``<!-- bench:name -->`` and ``<!-- /bench:name -->`` in ``path`` (added at
    the end when the file has none)."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = path.read_text() if path.exists() else ""
    replacement = f"{begin}\n{block}{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: replacement, text, count=1)
    else:
        text = f"{text.rstrip()}\n\n{replacement}\n" if text else f"{replacement}\n"
    path.write_text(text)
