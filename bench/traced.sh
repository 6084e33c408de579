#!/usr/bin/env bash
# Benchmark: traced `pare minify` (issue 11) on the test workloads. For
# each: the whole command's wall time, the traced run of the original
# (entry point start to stop, probes included), the verify run of the
# minified image (untraced, the same probes), what is left for pare's own
# work (flatten, extraction, plan, write, read-back: the target is under
# two seconds), the tracer's stops, and sizes. The traced/verify ratio is
# what tracing costs the app: the same probes on the same program, once
# under ptrace and once not. Prints a Markdown table for BENCHMARKS.md.
#
#   bench/traced.sh          (runs every workload below, 3 times each)
source "$(dirname "$0")/common.sh"
[[ $(id -u) == 0 ]] || { echo "bench: the sandbox needs root" >&2; exit 1; }
RUNS="${RUNS:-3}"

# name|image|extra arguments
WORKLOADS=(
    "nginx|nginx|"
    "python|python|--probe-http 8080/"
    "python, 300 requests|python|--probe-cmd \"python3 -c 'import urllib.request as u; [u.urlopen(\\\"http://127.0.0.1:8080/x\\\").read() for _ in range(300)]'\""
    "node|node|"
    "redis-gosu|redis-gosu|--probe-cmd 'redis-cli ping'"
    "lambda|lambda|--probe-lambda '{\"name\":\"pare\"}'"
    "plugind|cplugins|--probe-http 8086"
    "convd|cplugins|--entrypoint convd --probe-http 8087"
)

echo "| workload | total s | traced run s | verify run s | tracing cost | pare's own s | tracer stops | size before → after |"
echo "|---|---|---|---|---|---|---|---|"
for workload in "${WORKLOADS[@]}"; do
    IFS='|' read -r name image extra <<<"$workload"
    rows=()
    for _ in $(seq "$RUNS"); do
        rm -rf "$WORK/out" "$WORK/report.json"
        start=$(date +%s.%N)
        eval "\"$PARE\" minify docker-archive:$IMAGES_DIR/$image.tar -o oci:$WORK/out --report $WORK/report.json $extra" >/dev/null
        end=$(date +%s.%N)
        rows+=("$(python3 - "$WORK/report.json" "$start" "$end" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["trace"]
total = float(sys.argv[3]) - float(sys.argv[2])
traced, verified = t["traced_ms"] / 1000, (t.get("verified_ms") or 0) / 1000
mb = lambda b: "%.1f MB" % (b / 1e6)
print("%.2f %.2f %.2f %.2f %d %s→%s" % (total, traced, verified, total - traced - verified,
      t["tracer_stops"], mb(r["before"]["size_bytes"]).replace(" ", "_"), mb(r["after"]["size_bytes"]).replace(" ", "_")))
PY
)")
    done
    # The median run by total time.
    median=$(printf '%s\n' "${rows[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
    read -r total traced verified own stops sizes <<<"$median"
    ratio=$(python3 -c "print('%.1f×' % ($traced / $verified) if $verified > 0 else '-')")
    echo "| $name | $total | $traced | $verified | $ratio | $own | $stops | ${sizes//_/ } |"
done
