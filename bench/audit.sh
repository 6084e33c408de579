#!/usr/bin/env bash
# Benchmark: `pare audit` beside `pare sbom` on the same images (issue 4 asks
# audit to be as fast as sbom), as docker archives and as gzip OCI layouts,
# in one run. Prints a Markdown table for BENCHMARKS.md.
#
#   bench/audit.sh [IMAGE_NAME...]   (default: debian redis python busybox)
source "$(dirname "$0")/common.sh"
require hyperfine
NAMES=("${@:-debian redis python busybox}")
read -r -a NAMES <<<"${NAMES[*]}"

echo "| image | form | pare audit | pare sbom | audit/sbom time | audit peak RSS | findings |"
echo "|---|---|---|---|---|---|---|"
for name in "${NAMES[@]}"; do
    archive="$IMAGES_DIR/$name.tar"
    "$PARE" copy "docker-archive:$archive" "oci:$WORK/$name-oci" >/dev/null
    for form in docker-archive oci; do
        if [[ $form == docker-archive ]]; then ref="docker-archive:$archive"
        else ref="oci:$WORK/$name-oci"; fi
        hyperfine -N --warmup 1 --runs 5 --export-json "$WORK/r.json" \
            -n audit "$PARE audit --format json $ref" \
            -n sbom "$PARE sbom --format json $ref" >/dev/null
        read -r audit_ms sbom_ms < <(means_ms "$WORK/r.json" audit sbom)
        audit_kb=$(peak_kb "$PARE" audit --format json "$ref")
        findings=$("$PARE" audit --format json "$ref" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))')
        echo "| $name | $form | ${audit_ms} ms | ${sbom_ms} ms | $(python3 -c "print(f'{$audit_ms/$sbom_ms:.2f}')") | $((audit_kb / 1024)) MB | $findings |"
    done
done
