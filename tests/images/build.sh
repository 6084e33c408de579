#!/usr/bin/env bash
# Builds pare's test images from real Debian bookworm packages and caches
# them as `docker save` archives. Nothing is pulled from a registry: the base
# comes from debootstrap against the Debian mirror apt uses on this machine,
# the app layers from that mirror's .deb files installed by the real Docker
# Engine (`docker build`), so layers, whiteouts and configs are Docker's own.
#
#   tests/images/build.sh            build what is missing
#   tests/images/build.sh --rebuild  build everything again
#
# Output (in $PARE_TEST_IMAGES, default /var/cache/pare-test-images/v1):
#   debian.tar   debootstrap --variant=minbase bookworm, one layer
#   redis.tar    + redis-server         (3 layers, whiteouts)
#   nginx.tar    + nginx                (3 layers, whiteouts)
#   python.tar   + python3 app using ssl, sqlite3, zoneinfo (4 layers)
#   busybox.tar  FROM scratch: Debian's busybox-static and its applet links
#   apps.tar     + docker-registry (Go) and two programs compiled here: Go in
#                module mode, Rust with cargo-auditable (tests/images/apps)
# Needs root, debootstrap and a running Docker Engine; apps.tar also needs
# Go with Debian's golang-github-pkg-errors-dev, and cargo-auditable.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${PARE_TEST_IMAGES:-/var/cache/pare-test-images/v1}"
REBUILD=0
[[ "${1:-}" == "--rebuild" ]] && REBUILD=1
IMAGES=(debian redis nginx python busybox apps)

missing=()
for name in "${IMAGES[@]}"; do
    if [[ $REBUILD == 1 || ! -s "$OUT/$name.tar" ]]; then missing+=("$name"); fi
done
if [[ ${#missing[@]} == 0 ]]; then
    echo "test images: all cached in $OUT"
    exit 0
fi
echo "test images: building ${missing[*]} into $OUT"

tools=(debootstrap docker)
[[ " ${missing[*]} " == *" apps "* ]] && tools+=(go cargo-auditable)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || { echo "build.sh: $tool is required" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "build.sh: must run as root (debootstrap, chroot)" >&2; exit 1; }

# The mirror apt uses here (the Debian archive is the only one reachable).
MIRROR="$(grep -rhoE 'https?://[^ ]*/debian/?$' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | head -n1 || true)"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"

mkdir -p "$OUT"
WORK="$(mktemp -d /var/tmp/pare-images.XXXXXX)"
cleanup() {
    for m in "$WORK/builder/proc" "$WORK/builder/dev/pts"; do
        mountpoint -q "$m" 2>/dev/null && umount -l "$m"
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
export DOCKER_BUILDKIT=0  # the classic builder: no buildx plugin needed

echo "== debootstrap bookworm (minbase) from $MIRROR"
debootstrap --variant=minbase bookworm "$WORK/base" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 20 "$WORK/debootstrap.log" >&2; exit 1; }
# As Debian's own container images: no apt lists, no daemons started by
# maintainer scripts.
rm -rf "$WORK"/base/var/lib/apt/lists/* "$WORK"/base/var/cache/apt/*.bin
printf '#!/bin/sh\nexit 101\n' >"$WORK/base/usr/sbin/policy-rc.d"
chmod 755 "$WORK/base/usr/sbin/policy-rc.d"
echo "$MIRROR" >"$WORK/mirror"

# A copy of the base with apt lists, used only to download .deb files.
cp -a "$WORK/base" "$WORK/builder"
cp /etc/resolv.conf "$WORK/builder/etc/resolv.conf"
mount -t proc proc "$WORK/builder/proc"
chroot "$WORK/builder" apt-get -q update >/dev/null

download() { # download NAME PACKAGE... : the .debs a base needs for PACKAGE...
    local name="$1"; shift
    mkdir -p "$WORK/builder/debs/$name/partial"
    chroot "$WORK/builder" apt-get -q -y --no-install-recommends install --download-only \
        -o Dir::Cache::archives="/debs/$name" "$@" >/dev/null
    mkdir -p "$WORK/ctx-$name/debs"
    mv "$WORK/builder/debs/$name/"*.deb "$WORK/ctx-$name/debs/"
}

echo "== base image"
tar --numeric-owner --xattrs -C "$WORK/base" -c . \
    | docker import -c 'CMD ["bash"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        - pare-test/debian:bookworm >/dev/null
docker save pare-test/debian:bookworm -o "$OUT/debian.tar.partial"
mv "$OUT/debian.tar.partial" "$OUT/debian.tar"

build_app() { # build_app NAME PACKAGE...
    local name="$1"; shift
    echo "== $name image ($*)"
    download "$name" "$@"
    cp -r "$HERE/$name/." "$WORK/ctx-$name/"
    docker build -q -t "pare-test/$name:bookworm" "$WORK/ctx-$name" >/dev/null
    docker save "pare-test/$name:bookworm" -o "$OUT/$name.tar.partial"
    mv "$OUT/$name.tar.partial" "$OUT/$name.tar"
}

for name in "${missing[@]}"; do
    case "$name" in
        redis) build_app redis redis-server ;;
        nginx) build_app nginx nginx ;;
        python) build_app python python3 tzdata ca-certificates ;;
        busybox)
            echo "== busybox image (scratch + busybox-static)"
            download busybox busybox-static
            mkdir -p "$WORK/ctx-busybox/rootfs"
            dpkg-deb -x "$WORK"/ctx-busybox/debs/busybox-static_*.deb "$WORK/bb"
            mkdir -p "$WORK/ctx-busybox/rootfs/bin"
            cp "$WORK/bb/bin/busybox" "$WORK/ctx-busybox/rootfs/bin/busybox"
            # One symlink per applet at its usual place, as `busybox --install -s`.
            "$WORK/bb/bin/busybox" --list-full | while read -r applet; do
                [[ "$applet" == bin/busybox ]] && continue
                mkdir -p "$WORK/ctx-busybox/rootfs/$(dirname "$applet")"
                ln -sf /bin/busybox "$WORK/ctx-busybox/rootfs/$applet"
            done
            rm -rf "$WORK/ctx-busybox/debs"
            cp -r "$HERE/busybox/." "$WORK/ctx-busybox/"
            docker build -q -t pare-test/busybox:bookworm "$WORK/ctx-busybox" >/dev/null
            docker save pare-test/busybox:bookworm -o "$OUT/busybox.tar.partial"
            mv "$OUT/busybox.tar.partial" "$OUT/busybox.tar" ;;
        apps)
            # Compiled offline: Go with its one dependency vendored from
            # Debian's source package, Rust against the committed Cargo.lock.
            mkdir -p "$WORK/ctx-apps/bin"
            cp -r "$HERE/apps/go" "$WORK/go"
            mkdir -p "$WORK/go/vendor/github.com/pkg"
            cp -r /usr/share/gocode/src/github.com/pkg/errors "$WORK/go/vendor/github.com/pkg/errors"
            rm -f "$WORK"/go/vendor/github.com/pkg/errors/*_test.go
            printf '# github.com/pkg/errors v0.9.1\n## explicit\ngithub.com/pkg/errors\n' \
                >"$WORK/go/vendor/modules.txt"
            (cd "$WORK/go" && GOFLAGS=-mod=vendor GOPROXY=off CGO_ENABLED=0 GOCACHE="$WORK/gocache" \
                go build -trimpath -buildvcs=false -ldflags "-X main.version=1.4.2" \
                -o "$WORK/ctx-apps/bin/pare-go-hello" .)
            (cd "$HERE/apps/rust" && cargo auditable build --release --locked -q \
                --target-dir "$WORK/rust-target")
            cp "$WORK/rust-target/release/pare-rust-hello" "$WORK/ctx-apps/bin/"
            build_app apps docker-registry ;;
        debian) ;;
    esac
done
ls -l "$OUT"
