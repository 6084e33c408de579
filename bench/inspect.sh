#!/usr/bin/env bash
# Benchmark: `pare inspect` against peers that read the same docker archive,
# side by side in one run. Prints a Markdown table for BENCHMARKS.md.
#
#   bench/inspect.sh [IMAGE_NAME...]   (default: redis; images from tests/images/build.sh)
#
# Peers (each reads every layer of the archive, as pare must to verify it):
#   skopeo copy docker-archive: -> oci:   (containers/image: reads, hashes, writes)
#   GNU tar listing of every layer        (no flattening, no hashing: a floor)
source "$(dirname "$0")/common.sh"
require hyperfine skopeo
NAMES=("${@:-redis}")

list_layers() { # GNU tar: list every layer of a docker archive, in order
    local archive="$1"
    python3 - "$archive" <<'PY' | while read -r layer; do tar -xOf "$archive" "$layer" | tar -t >/dev/null; done
import json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for layer in json.load(t.extractfile("manifest.json"))[0]["Layers"]:
        print(layer)
PY
}
export -f list_layers

echo "| image | archive size | pare inspect | skopeo copy → oci | tar listing of layers | pare peak RSS | skopeo peak RSS |"
echo "|---|---|---|---|---|---|---|"
for name in "${NAMES[@]}"; do
    archive="$IMAGES_DIR/$name.tar"
    [[ -f "$archive" ]] || { echo "bench: missing $archive (run tests/images/build.sh)" >&2; exit 1; }
    size=$(du -m "$archive" | cut -f1)
    hyperfine -N --warmup 2 --runs 10 --export-json "$WORK/$name.json" \
        -n pare "$PARE inspect --format json $archive" \
        -n skopeo "bash -c 'rm -rf $WORK/oci && skopeo copy -q docker-archive:$archive oci:$WORK/oci:x'" \
        -n tar "bash -c 'list_layers $archive'" >/dev/null
    times=$(python3 -c '
import json,sys
r={x["command"]:x for x in json.load(open(sys.argv[1]))["results"]}
print(" | ".join("%.0f ms ± %.0f" % (r[k]["mean"]*1000, r[k]["stddev"]*1000) for k in ("pare","skopeo","tar")))' "$WORK/$name.json")
    pare_rss=$(peak_kb "$PARE" inspect --format json "$archive")
    rm -rf "$WORK/oci"
    skopeo_rss=$(peak_kb skopeo copy -q "docker-archive:$archive" "oci:$WORK/oci:x")
    echo "| $name | ${size} MB | $times | $((pare_rss / 1024)) MB | $((skopeo_rss / 1024)) MB |"
done
