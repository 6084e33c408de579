#!/usr/bin/env bash
# Benchmark: reading images straight from the Docker Engine, side by side
# in one run: `pare sbom docker-daemon:IMAGE` against `syft docker:IMAGE`
# (both ask the Engine for `docker save` and read the stream), and `pare
# inspect docker-daemon:` against `skopeo copy docker-daemon: → oci:` (the
# containers/image reader: it spools the save to a temporary file too).
# Prints a Markdown table for BENCHMARKS.md.
#
#   bench/daemon.sh [IMAGE_NAME...]   (default: redis python; loaded from
#                                      tests/images/build.sh's archives)
source "$(dirname "$0")/common.sh"
require hyperfine syft skopeo docker
NAMES=("${@:-redis python}")
read -r -a NAMES <<<"${NAMES[*]}"
export SYFT_CHECK_FOR_APP_UPDATE=false

echo "| image | pare sbom | syft | speed-up | pare peak RSS | syft peak RSS | pare inspect | skopeo copy → oci |"
echo "|---|---|---|---|---|---|---|---|"
for name in "${NAMES[@]}"; do
    tag="pare-bench/$name:daemon"
    "$PARE" copy -q "docker-archive:$IMAGES_DIR/$name.tar" "docker-daemon:$tag" >/dev/null
    hyperfine -N --warmup 1 --runs 5 --export-json "$WORK/r.json" \
        -n pare "$PARE sbom -q --format json docker-daemon:$tag" \
        -n syft "syft -q docker:$tag -o json" \
        -n inspect "$PARE inspect -q docker-daemon:$tag" \
        -n skopeo "skopeo copy -q docker-daemon:$tag oci:$WORK/skopeo-oci:x" >/dev/null
    read -r pare_ms syft_ms inspect_ms skopeo_ms < <(means_ms "$WORK/r.json" pare syft inspect skopeo)
    pare_kb=$(peak_kb "$PARE" sbom -q --format json "docker-daemon:$tag")
    syft_kb=$(peak_kb syft -q "docker:$tag" -o json)
    echo "| $name | ${pare_ms} ms | ${syft_ms} ms | $(python3 -c "print(f'{$syft_ms/$pare_ms:.1f}×')") | $((pare_kb / 1024)) MB | $((syft_kb / 1024)) MB | ${inspect_ms} ms | ${skopeo_ms} ms |"
    docker rmi -f "$tag" >/dev/null
    rm -rf "$WORK/skopeo-oci"
done
