"""Mutation score of the domain core, per file, from mutmut's results in ``mutants/``.

A mutant no test reaches ("no tests") counts as a survivor: an untested rule is not pinned.
Exit status 1 when the score is below the target, so CI fails when the core's tests erode.
"""

from __future__ import annotations

import json
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

TARGET_OVERALL = 90.0
TARGET_PER_FILE = 85.0
# mutmut's exit codes (mutmut/stats.py): 1 and 3 mean a test failed, 36/24/-24/152/255 a timeout.
KILLED = {1, 3, 36, 24, -24, 152, 255, 37}
SURVIVED = {0}
UNTESTED = {5, 33}


def core_files(root: Path) -> list[str]:
    config = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["tool"]["mutmut"]
    patterns = config["only_mutate"]
    return sorted(str(p.relative_to(root)) for p in root.glob("portal/**/*.py")
                  if any(fnmatch(str(p.relative_to(root)), pattern) for pattern in patterns))


def counts(meta: Path) -> dict[str, int]:
    codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"].values()
    return {"mutants": len(codes),
            "killed": sum(c in KILLED for c in codes),
            "survived": sum(c in SURVIVED for c in codes),
            "untested": sum(c in UNTESTED for c in codes),
            "other": sum(c not in KILLED | SURVIVED | UNTESTED for c in codes)}


def score(row: dict[str, int]) -> float:
    return 100.0 * row["killed"] / row["mutants"] if row["mutants"] else 100.0


def main(root: Path = Path(".")) -> int:
    rows: dict[str, dict[str, int]] = {}
    for name in core_files(root):
        meta = root / "mutants" / (name + ".meta")
        if not meta.exists():
            print(f"{name}: no mutmut results (was `mutmut run` interrupted?)", file=sys.stderr)
            return 2
        rows[name] = counts(meta)
    total = {key: sum(row[key] for row in rows.values()) for key in next(iter(rows.values()))}
    width = max(len(name) for name in rows)
    header = f"{'file':<{width}}  mutants  killed  survived  untested  other   score"
    print(header)
    print("-" * len(header))
    for name, row in [*rows.items(), ("total", total)]:
        print(f"{name:<{width}}  {row['mutants']:>7}  {row['killed']:>6}  {row['survived']:>8}  "
              f"{row['untested']:>8}  {row['other']:>5}  {score(row):>5.1f} %")
    failures = [f"{name}: {score(row):.1f} % < {TARGET_PER_FILE:.0f} %"
                for name, row in rows.items() if score(row) < TARGET_PER_FILE]
    if score(total) < TARGET_OVERALL:
        failures.insert(0, f"overall: {score(total):.1f} % < {TARGET_OVERALL:.0f} %")
    print()
    if failures:
        print("Mutation score below target (untested mutants count as survivors):")
        for failure in failures:
            print(f"  {failure}")
        print("List the survivors with `.venv/bin/mutmut results`, read one with `.venv/bin/mutmut show NAME`.")
        return 1
    print(f"Mutation score on target: >= {TARGET_OVERALL:.0f} % overall, >= {TARGET_PER_FILE:.0f} % per file.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
