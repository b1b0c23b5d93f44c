#!/usr/bin/env bash
# Fuzz the parser, the checks and the emitters with cargo-fuzz (libFuzzer, nightly).
#
#   scripts/fuzz.sh            # 10 seconds per target, as the test command runs it
#   scripts/fuzz.sh 600        # the longer run (see the book's hardening page)
#   scripts/fuzz.sh 60 check   # one target
#   scripts/fuzz.sh build      # build every target (one cargo build), run nothing
#
# The corpus starts from every bundled plan and test fixture, and a dictionary of the plan
# language's keys and value syntax. A crash, a hang (10 s for one input) or more than 2 GiB of
# memory stops the run; its input is under fuzz/artifacts/TARGET/. Minimise it
# (`cargo +nightly fuzz tmin TARGET FILE`), copy it to tests/fixtures/fuzz/ and fix the bug:
# tests/hardening.rs keeps every such input fixed.
#
# The test command's 10-second runs use a quick build: no AddressSanitizer (upkeep forbids
# unsafe code; a panic, a hang or runaway memory is what the fuzzers look for), opt-level 1 and
# 16 codegen units instead of opt-level 3 in one unit, in fuzz/target/quick. Measured on 2
# cores, it builds in 60% of the time of cargo-fuzz's defaults and runs 5 to 25 times as many
# inputs in 10 seconds (with AddressSanitizer, `check` and `emit` barely get through the seed
# corpus). For the long runs, FUZZ_FULL=1 uses cargo-fuzz's defaults, in fuzz/target:
#
#   FUZZ_FULL=1 scripts/fuzz.sh 600
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is missing: ./scripts/install-validators.sh" >&2; exit 2; }
# The same options for `build` and `run`, so that `run` finds what `build` built.
if [ -n "${FUZZ_FULL:-}" ]; then
  opts=()
else
  opts=(--sanitizer none --codegen-units 16 --target-dir fuzz/target/quick)
  export CARGO_PROFILE_RELEASE_OPT_LEVEL=1
fi

if [ "${1:-}" = build ]; then
  shift
  # No target named: cargo fuzz builds them all in one cargo invocation.
  exec cargo +nightly fuzz build "${opts[@]}" "$@"
fi

seconds="${1:-10}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(parse check emit)

# A dictionary of every key of the plan schema and the words of the value syntax.
dict=fuzz/target/plan.dict
mkdir -p fuzz/target
python3 - schemas/plan.schema.json > "$dict" <<'PY'
import json, sys
words = set()
def walk(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("properties", "patternProperties") and isinstance(v, dict):
                words.update(v.keys() if k == "properties" else ())
            if k == "enum" and isinstance(v, list):
                words.update(str(x) for x in v)
            walk(v)
    elif isinstance(node, list):
        for x in node:
            walk(x)
walk(json.load(open(sys.argv[1])))
words.update("""every daily weekdays weekends weekly monthly quarterly semiannually yearly once cron at on
first second third fourth last day sunday monday saturday 02:00 23:59 5m 6h 2d 1w 99.9% 250ms 2Gi 500m
USD EUR forever upkeep/v1 Plan Fragment > >= < <= == rate( sum( by ( {job=" [5m] &a *a !!str ? : - | >-
""".split())
for w in sorted(words):
    print('"' + w.replace('\\', '\\\\').replace('"', '\\"') + '"')
PY

for t in "${targets[@]}"; do
  corpus="fuzz/corpus/$t"
  mkdir -p "$corpus"
  find plans tests/fixtures -name '*.yaml' -exec cp -n {} "$corpus/" \; 2>/dev/null || true
  echo "==> fuzz $t for ${seconds}s" >&2
  cargo +nightly fuzz run "${opts[@]}" "$t" "$corpus" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -dict="$dict" -print_final_stats=1 2> "fuzz/target/$t.log" || {
      tail -40 "fuzz/target/$t.log" >&2
      if grep -q 'failed to build fuzz script' "fuzz/target/$t.log"; then
        echo "error: the $t fuzz target does not build" >&2
      else
        echo "error: the $t fuzzer found a problem; its input is in fuzz/artifacts/$t/" >&2
      fi
      exit 1
    }
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "fuzz/target/$t.log" | sed "s/^/   $t /" >&2 || true
done
