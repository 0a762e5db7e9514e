"""`make lint`: the type completeness of the installed torchauc's public API (``pyright --verifytypes``)
must not drop below THRESHOLD (issue 17). Run with the repository's venv (pyright resolves the
installed package through it); prints the score. Raise THRESHOLD when the score rises."""

import json
import os
import subprocess
import sys
from pathlib import Path

THRESHOLD = 86.0  # percent: the score reached, rounded down

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    venv = Path(os.environ.get("VENV", ROOT / ".venv")).resolve()
    env = dict(os.environ, VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    cmd = [str(venv / "bin" / "pyright"), "--verifytypes", "torchauc", "--ignoreexternal", "--outputjson"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True).stdout
    try:
        score = 100.0 * json.loads(out)["typeCompleteness"]["completenessScore"]
    except (ValueError, KeyError) as e:
        print(f"verifytypes_check: no completeness score from pyright ({e}):\n{out[-2000:]}", file=sys.stderr)
        return 2
    print(f"verifytypes: type completeness {score:.1f}% (threshold {THRESHOLD}%)")
    if score < THRESHOLD:
        print(f"verifytypes_check: completeness {score:.1f}% < {THRESHOLD}%", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
