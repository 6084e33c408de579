#!/usr/bin/env bash
# Benchmark: `pare minify --static-only` (issue 5: redis "well under a
# second"), from a docker archive and from a gzip OCI layout, to an OCI
# layout. Prints a Markdown table for BENCHMARKS.md.
#
#   bench/minify.sh [IMAGE_NAME...]   (default: redis nginx)
source "$(dirname "$0")/common.sh"
require hyperfine
NAMES=("${@:-redis nginx}")
read -r -a NAMES <<<"${NAMES[*]}"

echo "| image | from | → docker-archive | → oci (gzip) | peak RSS | size before → after | files before → after |"
echo "|---|---|---|---|---|---|---|"
for name in "${NAMES[@]}"; do
    archive="$IMAGES_DIR/$name.tar"
    "$PARE" copy "docker-archive:$archive" "oci:$WORK/$name-oci" >/dev/null
    for form in docker-archive oci; do
        if [[ $form == docker-archive ]]; then ref="docker-archive:$archive"
        else ref="oci:$WORK/$name-oci"; fi
        out="$WORK/out"
        hyperfine -N --warmup 1 --runs 5 --export-json "$WORK/r.json" \
            --prepare "rm -rf $out $out.tar" \
            -n archive "$PARE minify --static-only $ref -o docker-archive:$out.tar" \
            -n oci "$PARE minify --static-only $ref -o oci:$out" >/dev/null
        read -r archive_ms oci_ms < <(means_ms "$WORK/r.json" archive oci)
        rm -rf "$out" "$out.tar"
        kb=$(peak_kb "$PARE" minify --static-only "$ref" -o "oci:$out")
        summary=$("$PARE" minify --static-only "$ref" -o "oci:$WORK/out2" | awk '/^size/{s=$2" "$3" → "$4" "$5} /^files/{f=$2" → "$3} END{print s"|"f}')
        rm -rf "$WORK/out2" "$out"
        echo "| $name | $form | ${archive_ms} ms | ${oci_ms} ms | $((kb / 1024)) MB | ${summary%%|*} | ${summary##*|} |"
    done
done
