#!/usr/bin/env bash
# Mutation testing of the domain core ([tool.mutmut] in pyproject.toml): mutmut changes the core
# one mutant at a time and runs the fast tests that cover it; a mutant no test notices survives.
# Prints killed / survived / untested per file and fails below >= 90 % overall, >= 85 % per file.
# Arguments go to `mutmut run` (e.g. --max-children 4).
source "$(dirname "$0")/_venv.sh"
rm -rf mutants   # a fresh run: the score never comes from a stale cache
started=$SECONDS
mutmut run --max-children "${MUTATION_CHILDREN:-2}" "$@" > mutants.log 2>&1 || {
  tail -n 40 mutants.log; echo "mutmut run failed (full output: mutants.log)" >&2; exit 2; }
mv mutants.log mutants/run.log
echo "mutmut run: $((SECONDS - started)) s (output: mutants/run.log)"
python scripts/mutation_report.py
