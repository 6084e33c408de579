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
# Workloads for minify's traced run, each answering real requests with what
# it loads only at run time:
#   node.tar        + nodejs (system ICU), a web app (with its package.json) answering with Intl in
#                   German and Japanese (port 8085)
#   redis-gosu.tar  + redis-server and gosu behind the official image's
#                   shell entry point (chown, then gosu redis; port 6379)
#   lambda.tar      + python3, awslambdaric from PyPI wheels and a handler in
#                   /var/task (Lambda Runtime API client; no port)
#   cplugins.tar    + locales (de_DE.UTF-8) and two C programs compiled here:
#                   plugind dlopens a plugin by name through ld.so.cache
#                   (entry point, port 8086), convd uses a locale and an
#                   iconv module (--entrypoint convd, port 8087)
#   ctext.tar       + textd, compiled here: takes its locale from LANG=C.UTF-8
#                   in the config and converts with an iconv module (8088)
#   java.tar        + openjdk-17-jre-headless and a web app compiled here
#                   (javac --release 17), run as `java -cp /app Main`,
#                   answering with SHA-256 and a German month name (port 8088)
#   pylocal.tar     a from-source python layout: Debian's python3 copied to
#                   /usr/local/bin and /usr/local/lib/python3.11 (sys.prefix
#                   /usr/local, no /usr/lib/python3.11), a stdlib web app
#                   (port 8088)
#   perl.tar        + perl, a core-modules web server answering with the
#                   output of `id`, a program the script runs by name
#                   (port 8089)
#   javaapp.tar     + openjdk-17-jre-headless, libcommons-lang3-java and
#                   libslf4j-java; a fat jar built here with `jar` nesting
#                   Debian's commons-lang3, slf4j, jackson-core and guava
#                   jars under BOOT-INF/lib, a war nesting the slf4j jars
#                   under WEB-INF/lib, and an unowned copy of the JRE's
#                   `release` file (Java cataloger parity)
# For pare scan:
#   pyold.tar       + python3 and deliberately old urllib3, jinja2 and
#                   requests from PyPI wheels in /usr/local/lib/python3.11/
#                   dist-packages (known advisories; port 8090)
# For pare sbom (Ruby, PHP, .NET catalogers):
#   langs.tar       + ruby, ruby-sinatra, ruby-nokogiri (gemspecs), composer
#                   installing a project offline from path repositories over
#                   Debian's php-monolog, php-psr-log and
#                   php-symfony-polyfill-mbstring (a real installed.json),
#                   php-pear, and Syft's installed.json (Composer 1), PECL
#                   registry and .NET deps.json fixtures
# For pare sbom's .NET cataloger:
#   dotnet.tar      + Mono's class libraries and C# compiler (real PE files
#                   with version resources), an app compiled here with mcs
#                   (Hello.exe, Greeting.dll) and an App.deps.json
# For pare sbom's binary classifiers:
#   fromsource.tar  Debian's python3.11, node, redis-server, nginx, openjdk-17
#                   JRE, ruby, php, busybox and openssl copied into /usr/local
#                   (and /usr/local/openjdk-17) with no dpkg entry claiming
#                   them, as from-source images lay them out
# Needs root, debootstrap and a running Docker Engine; apps.tar also needs
# Go with Debian's golang-github-pkg-errors-dev, and cargo-auditable;
# lambda.tar and pyold.tar the system python3 with pip (python3-pip); cplugins.tar and
# ctext.tar gcc, libc6-dev and make (the host is bookworm: its glibc is the
# image's); java.tar and javaapp.tar javac 17 or later and jar
# (openjdk-17-jdk-headless), javaapp.tar also dpkg-deb.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${PARE_TEST_IMAGES:-/var/cache/pare-test-images/v1}"
REBUILD=0
[[ "${1:-}" == "--rebuild" ]] && REBUILD=1
IMAGES=(debian redis nginx python busybox apps node redis-gosu lambda cplugins ctext java pylocal perl pyold langs javaapp fromsource dotnet)

# inputs_of NAME: a digest of the image's own folder (its Dockerfile and
# the files it copies), kept beside the cached archive as NAME.inputs, so a
# change to an image's definition rebuilds that image and no other. (How
# build.sh itself builds an image is not part of it: --rebuild for that.)
inputs_of() {
    local dir="$HERE/$1"
    [[ -d "$dir" ]] || { echo none; return; }
    (cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

# One build at a time per cache (two test runs, or a helper's, may start
# it together): the second waits, then finds what the first built.
mkdir -p "$OUT"
exec 9>"$OUT/.build.lock"
flock 9

missing=()
for name in "${IMAGES[@]}"; do
    if [[ $REBUILD == 1 || ! -s "$OUT/$name.tar" ]] \
        || [[ "$(cat "$OUT/$name.inputs" 2>/dev/null)" != "$(inputs_of "$name")" ]]; then
        missing+=("$name")
    fi
done
if [[ ${#missing[@]} == 0 ]]; then
    echo "test images: all cached in $OUT"
    exit 0
fi
echo "test images: building ${missing[*]} into $OUT"

tools=(debootstrap docker)
[[ " ${missing[*]} " == *" apps "* ]] && tools+=(go cargo-auditable)
[[ " ${missing[*]} " == *" cplugins "* || " ${missing[*]} " == *" ctext "* ]] && tools+=(gcc make)
[[ " ${missing[*]} " == *" java "* ]] && tools+=(javac)
[[ " ${missing[*]} " == *" javaapp "* ]] && tools+=(javac jar dpkg-deb)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || { echo "build.sh: $tool is required" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "build.sh: must run as root (debootstrap, chroot)" >&2; exit 1; }
if [[ " ${missing[*]} " == *" lambda "* || " ${missing[*]} " == *" pyold "* ]] && ! /usr/bin/python3 -m pip --version >/dev/null 2>&1; then
    echo "build.sh: /usr/bin/python3 with pip is required (python3-pip)" >&2; exit 1
fi

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
# Saved only when it is missing (or --rebuild): building some other image
# leaves a cached debian.tar as it was, never rewritten under a test run.
if [[ " ${missing[*]} " == *" debian "* ]]; then
    docker save pare-test/debian:bookworm -o "$OUT/debian.tar.partial"
    mv "$OUT/debian.tar.partial" "$OUT/debian.tar"
fi

# pip_target DIR REQUIREMENTS [PIP ARG]...: wheels only, for the image's
# python (3.11 on x86_64), into DIR. pip runs with a clean environment and no
# config file; the index and CA bundle are this machine's pip's, the bundle
# copied into the work folder for the install and removed after it.
pip_target() {
    local target="$1" requirements="$2"; shift 2
    local index cert
    index="${PIP_INDEX_URL:-$(python3 -m pip config get global.index-url 2>/dev/null || true)}"
    cert="${PIP_CERT:-$(python3 -m pip config get global.cert 2>/dev/null || true)}"
    cert="${cert:-/etc/ssl/certs/ca-certificates.crt}"
    cp "$cert" "$WORK/pip-ca.crt"
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin PIP_CONFIG_FILE=/dev/null \
        /usr/bin/python3 -m pip install -q --no-cache-dir --no-compile \
        --disable-pip-version-check --root-user-action=ignore \
        --cert "$WORK/pip-ca.crt" ${index:+--index-url "$index"} \
        --only-binary=:all: --implementation cp --python-version 3.11 \
        --platform manylinux2014_x86_64 --target "$target" -r "$requirements" "$@"
    rm -f "$WORK/pip-ca.crt"
}

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
        langs)
            # Syft's fixtures, byte for byte, where the Dockerfile places them.
            fx="$HERE/../../crates/pare-sbom/tests/data/syft-fixtures"
            mkdir -p "$WORK/ctx-langs/fixtures/composer_1" "$WORK/ctx-langs/fixtures/dotnet"
            cp "$fx/php/vendor/composer_1/installed.json" "$WORK/ctx-langs/fixtures/composer_1/"
            cp "$fx/php/memcached.reg" "$WORK/ctx-langs/fixtures/"
            cp "$fx/dotnet/TestLibrary.deps.json" "$fx"/dotnet/glob-paths/src/something.{dll,exe} \
                "$WORK/ctx-langs/fixtures/dotnet/"
            build_app langs ruby ruby-sinatra ruby-nokogiri composer php-pear php-monolog \
                php-psr-log php-symfony-polyfill-mbstring ;;
        dotnet) build_app dotnet mono-mcs libmono-system-xml-linq4.0-cil libmono-posix4.0-cil ;;
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
        node) build_app node nodejs ;;
        redis-gosu) build_app redis-gosu redis-server gosu ;;
        lambda)
            # The function folder as AWS documents it (pip install --target),
            # pinned in requirements.txt, from wheels only (--only-binary:
            # nothing is compiled, so no compiler to remove) for the image's
            # python, 3.11 on x86_64.
            pip_target "$WORK/ctx-lambda/task" "$HERE/lambda/requirements.txt"
            build_app lambda python3 ;;
        cplugins)
            # Compiled on the host, a bookworm machine: the same glibc.
            make -s -C "$HERE/cplugins" OUT="$WORK/ctx-cplugins"
            build_app cplugins locales ;;
        ctext)
            echo "== ctext image (textd on the base)"
            make -s -C "$HERE/cplugins" OUT="$WORK/ctx-ctext" textd
            cp -r "$HERE/ctext/." "$WORK/ctx-ctext/"
            docker build -q -t pare-test/ctext:bookworm "$WORK/ctx-ctext" >/dev/null
            docker save pare-test/ctext:bookworm -o "$OUT/ctext.tar.partial"
            mv "$OUT/ctext.tar.partial" "$OUT/ctext.tar" ;;
        java)
            # Compiled on the host for Java 17, the image's JRE.
            mkdir -p "$WORK/ctx-java"
            javac --release 17 -d "$WORK/ctx-java" "$HERE/java/Main.java"
            build_app java openjdk-17-jre-headless ;;
        javaapp)
            # The libraries' jars come from their Debian packages (with
            # their META-INF/maven files), unpacked here, not installed.
            J="$WORK/javaapp"
            mkdir -p "$J/classes" "$J/fat/BOOT-INF/lib" "$J/war/WEB-INF/lib" "$WORK/ctx-javaapp/app"
            javac --release 17 -d "$J/classes" "$HERE/javaapp/Main.java"
            download javaapp-libs libcommons-lang3-java libslf4j-java libjackson2-core-java libguava-java
            for deb in "$WORK"/ctx-javaapp-libs/debs/*.deb; do dpkg-deb -x "$deb" "$J/libs"; done
            find "$J/libs/usr/share/java" -maxdepth 1 -type f -name '*.jar' \
                -exec cp {} "$J/fat/BOOT-INF/lib/" \;
            find "$J/libs/usr/share/java" -maxdepth 1 -type f -name 'slf4j-*.jar' \
                -exec cp {} "$J/war/WEB-INF/lib/" \;
            jar --create --file "$WORK/ctx-javaapp/app/app.jar" --manifest "$HERE/javaapp/MANIFEST.MF" \
                -C "$J/classes" . -C "$J/fat" BOOT-INF
            jar --create --file "$WORK/ctx-javaapp/app/webapp-2.1.war" -C "$J/war" WEB-INF
            build_app javaapp openjdk-17-jre-headless libcommons-lang3-java libslf4j-java ;;
        pylocal) build_app pylocal python3 ;;
        pyold)
            mkdir -p "$WORK/ctx-pyold"
            pip_target "$WORK/ctx-pyold/site" "$HERE/pyold/requirements.txt" --no-deps
            build_app pyold python3 ;;
        perl) build_app perl perl ;;
        fromsource) build_app fromsource python3.11 libpython3.11 nodejs redis-server nginx \
            openjdk-17-jre-headless ruby3.1 php8.2-cli busybox openssl ;;
        debian) ;;
    esac
done
for name in "${missing[@]}"; do
    inputs_of "$name" >"$OUT/$name.inputs"
done
ls -l "$OUT"
