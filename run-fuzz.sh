#!/usr/bin/env bash
# Fuzzes the Jazzer targets (@FuzzTest methods of module templates) one after the other, each for a set time.
#   ./run-fuzz.sh [--duration 5m] [target ...]
#   target: Class#method, a method or a class name (default: every target); --list prints them.
# `mvn verify` only replays the committed seeds (regression mode); this runs Jazzer's fuzzing mode
# (JAZZER_FUZZ=1, one target per JVM). A finding is written to
# templates/src/test/resources/<package>/<Class>Inputs/<method>/crash-<sha1>: keep it (renamed) as a seed and
# fix the code. The corpus Jazzer grows is kept in templates/.cifuzz-corpus (git-ignored) for the next run.
# Logs: templates/target/fuzz/<target>.log. EDGE_OFFLINE=1 builds with mvn -o. Exits 1 after a finding.
set -euo pipefail
cd "$(dirname "$0")"

TARGETS=(
  EventProjectionFuzzTest#parseAndProject
  EventProjectionFuzzTest#jsonAsciiRoundTrip
  TemplateCompilerFuzzTest#anyTemplateModel
  TemplateCompilerFuzzTest#expandsEachReferenceOnce
  ConfigLoaderFuzzTest#anyConfiguration
  ConfigLoaderFuzzTest#secretsNeverShown
)

usage() {
  echo "usage: $0 [--duration 5m] [--list] [target ...]   (duration: e.g. 90s, 5m, 1h)" >&2
  exit 2
}

duration=5m
selected=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) [[ $# -ge 2 && "$2" =~ ^[0-9]+[smh]?$ ]] || usage; duration="$2"; shift 2 ;;
    --list) printf '%s\n' "${TARGETS[@]}"; exit 0 ;;
    -h|--help) usage ;;
    -*) usage ;;
    *)
      matched=0
      for t in "${TARGETS[@]}"; do
        if [[ "$t" == "$1" || "${t#*#}" == "$1" || "${t%#*}" == "$1" ]]; then selected+=("$t"); matched=1; fi
      done
      [[ $matched == 1 ]] || { echo "unknown target: $1 (see --list)" >&2; exit 2; }
      shift ;;
  esac
done
[[ ${#selected[@]} -gt 0 ]] || selected=("${TARGETS[@]}")

MVN_FLAGS=(-B -ntp)
if [[ "${EDGE_OFFLINE:-}" == "1" ]]; then MVN_FLAGS+=(-o); fi
logs=templates/target/fuzz
mkdir -p "$logs"
marker="$logs/.started"
status=0
for t in "${selected[@]}"; do
  log="$logs/${t/\#/.}.log"
  touch "$marker"
  echo "== $t: fuzzing for $duration (log: $log)"
  # Surefire's -Dtest selects the one target; JAZZER_MAX_DURATION overrides @FuzzTest's maxDuration.
  if JAZZER_FUZZ=1 JAZZER_MAX_DURATION="$duration" mvn "${MVN_FLAGS[@]}" -pl templates test -Dtest="$t" \
      -Dsurefire.failIfNoSpecifiedTests=false -Dsurefire.redirectTestOutputToFile=false >"$log" 2>&1; then
    echo "   no finding. $(grep -a -E '^Done [0-9]+ runs' "$log" | tail -1) $(grep -a -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1)"
  else
    status=1
    found=$(find templates/src/test/resources -newer "$marker" -type f -name 'crash-*' 2>/dev/null || true)
    if [[ -n "$found" ]]; then
      echo "   FINDING, input kept as:"; echo "$found" | sed 's/^/     /'
      grep -a -m1 -A3 'FuzzTestFindingException' "$log" | sed 's/^/     /' || true
    else
      echo "   FAILED without a finding (build or setup problem): see $log"; tail -20 "$log" | sed 's/^/     /'
    fi
  fi
done
rm -f "$marker"
exit $status
