"""Run every ``benchmarks/bench_*.py`` module's ``run()`` and print what it measured.

Each ``run()`` returns a list of ``(name, value, unit)`` rows. Timings use ``time.perf_counter``
over many repetitions and report the median, so one slow scheduling hiccup does not decide it.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if not names:
        print("no benchmarks found", file=sys.stderr)
        return 1
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}")
        for label, value, unit in module.run():
            print(f"  {label:<60} {value:>12.4g} {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
