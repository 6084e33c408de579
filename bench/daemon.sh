#!/usr/bin/env bash
# Benchmark: reading images straight from the Docker Engine, side by side
# in one run: `pare sbom docker-daemon:IMAGE` against `syft docker:IMAGE`
# (both ask the Engine for `docker save` and read the stream), and `pare
# inspect docker-daemon:` against `skopeo copy docker-daemon: → oci:` (the
# containers/image reader: it spools the save to a temporary file too),
# then `pare copy docker-archive: → docker://` against `skopeo copy` of the
# same archive into Debian's docker-registry on loopback (emptied before
# every run, so every blob is uploaded). Prints Markdown tables for
# BENCHMARKS.md.
#
#   bench/daemon.sh [IMAGE_NAME...]   (default: redis python; loaded from
#                                      tests/images/build.sh's archives)
source "$(dirname "$0")/common.sh"
require hyperfine syft skopeo docker docker-registry
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

# The registry: plain HTTP on a loopback port, storage emptied before each run.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/reg"
cat >"$WORK/reg/config.yml" <<YML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $WORK/reg/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
YML
docker-registry serve "$WORK/reg/config.yml" >"$WORK/reg/log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

echo
echo "| image | pare copy → registry | skopeo copy → registry | ratio | pare peak RSS | skopeo peak RSS |"
echo "|---|---|---|---|---|---|"
for name in "${NAMES[@]}"; do
    archive="$IMAGES_DIR/$name.tar"
    hyperfine -N --warmup 1 --runs 5 --export-json "$WORK/r.json" \
        --prepare "rm -rf $WORK/reg/data" \
        -n pare "$PARE copy -q docker-archive:$archive docker://127.0.0.1:$port/bench/$name:pare" \
        -n skopeo "skopeo copy -q --dest-tls-verify=false docker-archive:$archive docker://127.0.0.1:$port/bench/$name:skopeo" >/dev/null
    read -r pare_ms skopeo_ms < <(means_ms "$WORK/r.json" pare skopeo)
    rm -rf "$WORK/reg/data"
    pare_kb=$(peak_kb "$PARE" copy -q "docker-archive:$archive" "docker://127.0.0.1:$port/bench/$name:pare")
    rm -rf "$WORK/reg/data"
    skopeo_kb=$(peak_kb skopeo copy -q --dest-tls-verify=false "docker-archive:$archive" "docker://127.0.0.1:$port/bench/$name:skopeo")
    echo "| $name | ${pare_ms} ms | ${skopeo_ms} ms | $(python3 -c "print(f'{$skopeo_ms/$pare_ms:.2f}')") | $((pare_kb / 1024)) MB | $((skopeo_kb / 1024)) MB |"
done
