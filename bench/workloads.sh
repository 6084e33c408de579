#!/usr/bin/env bash
# Benchmark: `pare minify --static-only` with no --include on the workloads
# of issue 12 (each test in crates/pare/tests/it runs the result and checks
# its answers): size and files before → after as pare measures them, the
# archives' bytes, and the mean time of 3 runs. Prints a Markdown table
# for BENCHMARKS.md.
#
#   bench/workloads.sh [NAME[:ENTRYPOINT]...]
#   (default: python pylocal perl node java nginx ctext cplugins)
source "$(dirname "$0")/common.sh"
require hyperfine
WORKLOADS=("${@:-python pylocal perl node java nginx ctext cplugins}")
read -r -a WORKLOADS <<<"${WORKLOADS[*]}"

echo "| workload | size before → after | files before → after | archive before → after | time |"
echo "|---|---|---|---|---|"
for workload in "${WORKLOADS[@]}"; do
    name="${workload%%:*}"
    args=(minify --static-only "docker-archive:$IMAGES_DIR/$name.tar" -o "docker-archive:$WORK/out.tar" --report "$WORK/report.json")
    [[ $workload == *:* ]] && args+=(--entrypoint "${workload#*:}")
    hyperfine -N --warmup 1 --runs 3 --export-json "$WORK/r.json" \
        --prepare "rm -f $WORK/out.tar" -n run "$PARE ${args[*]}" >/dev/null
    read -r ms < <(means_ms "$WORK/r.json" run)
    "$PARE" "${args[@]}" >/dev/null 2>&1
    python3 - "$WORK/report.json" "$IMAGES_DIR/$name.tar" "$WORK/out.tar" "$name" "$ms" <<'PY'
import json, os, sys
report, source, out, name, ms = sys.argv[1:]
r = json.load(open(report))
mb = lambda b: "%.1f MB" % (b / 1e6)
b, a = r["before"], r["after"]
print(f"| {name} | {mb(b['size_bytes'])} → {mb(a['size_bytes'])} | {b['files']} → {a['files']} "
      f"| {mb(os.path.getsize(source))} → {mb(os.path.getsize(out))} | {ms} ms |")
PY
done
