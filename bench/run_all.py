"""Run every benchmark in bench/ that exists, one after another, printing each one's report.

    python bench/run_all.py [--only NAME ...]

Each script is standalone (``python bench/NAME.py --help``); this only sequences them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ORDER = ["crypto_limit", "resolve", "verify", "registry_query", "sync", "compare_ebsi", "floor",
         "scaling"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    here = Path(__file__).parent
    failures = 0
    for name in args.only or ORDER:
        script = here / f"{name}.py"
        if not script.exists():
            print(f"== {name}: not present, skipped")
            continue
        print(f"== {name}", flush=True)
        rc = subprocess.call([sys.executable, str(script)])
        failures += rc != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
