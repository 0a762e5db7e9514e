"""The benchmark command from a checkout: ``python -m torchauc.bench`` (the suite installed with the
package, python/torchauc/bench/) plus any ``bench_<family>.py`` still in this folder (modules written
against the old top-level ``harness`` import; move them into the package with ``git mv`` and
``from .harness import Case``). Same options as ``torchauc-bench --help``."""

import pathlib
import sys

from torchauc.bench.run import main

if __name__ == "__main__":
    sys.exit(main(["--path", str(pathlib.Path(__file__).resolve().parent), *sys.argv[1:]]))
