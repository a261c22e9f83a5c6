#!/usr/bin/env bash
# Exercises: every stub fails, every reference passes.
#
# For each exercises/NN-*/ crate, the graded tests must FAIL against the
# untouched stub (`cargo test -p PKG --features graded`), or the exercise
# asks nothing, and must PASS against the workbench's own implementation
# (`--features graded,reference`), or the tests are wrong. The stubs must
# be the pristine ones the manifest records (checked first, strictly).
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

violations=0
rows=()
logs=$(mktemp -d)

echo "manifest: exercises/manifest.toml matches the tests, hints and pristine stubs"
if ! LOSTFOUND_STRICT_MANIFEST=1 cargo test -q --locked -p lostfound-grader --test manifest; then
  echo "FAIL: the manifest is stale or a stub is not pristine (see above)"
  violations=$((violations + 1))
fi

package_of() {
  sed -n 's/^name *= *"\(.*\)"/\1/p' "$1/Cargo.toml" | head -n 1
}

for dir in exercises/[0-9][0-9]-*/; do
  dir=${dir%/}
  package=$(package_of "$dir")
  if [ -z "$package" ]; then
    rows+=("$(printf '%-26s %-10s %-10s %s' "$dir" '?' '?' 'no [package] name')")
    violations=$((violations + 1))
    continue
  fi
  echo
  echo "-- $package: the stub must fail"
  # It must fail by failing tests: a stub that does not even build teaches nothing.
  if cargo test -q --locked -p "$package" --features graded >"$logs/$package-stub.log" 2>&1; then
    stub="PASSES"
    violations=$((violations + 1))
    tail -n 20 "$logs/$package-stub.log"
  elif grep -q '^test result: FAILED' "$logs/$package-stub.log"; then
    stub="fails"
  else
    stub="NO-BUILD"
    violations=$((violations + 1))
    tail -n 40 "$logs/$package-stub.log"
  fi
  echo "-- $package: the reference must pass"
  if cargo test -q --locked -p "$package" --features graded,reference >"$logs/$package-reference.log" 2>&1; then
    reference="passes"
  else
    reference="FAILS"
    violations=$((violations + 1))
    tail -n 40 "$logs/$package-reference.log"
  fi
  verdict="ok"
  if [ "$stub" != "fails" ] || [ "$reference" != "passes" ]; then verdict="VIOLATION"; fi
  rows+=("$(printf '%-26s %-10s %-10s %s' "$package" "$stub" "$reference" "$verdict")")
done

echo
printf '%-26s %-10s %-10s %s\n' "exercise" "stub" "reference" "verdict"
for row in "${rows[@]}"; do echo "$row"; done
if [ "$violations" -gt 0 ]; then
  echo "$violations violation(s): a stub must fail its graded tests and the reference must pass them"
  exit 1
fi
echo "every stub fails, every reference passes"
