#!/usr/bin/env bash
# A/B of two pare builds on the test images: this tree's release build (B)
# against another pare binary (A), side by side in one hyperfine run per
# command, with the peak memory of each. Used to show that a change (issue
# 10's hardening) costs no speed or memory on real images.
#
#   bench/ab.sh OLD_PARE [IMAGE_NAME...]   (default: debian redis nginx python apps)
#
# OLD_PARE is e.g. a release build of an earlier commit:
#   git worktree add /tmp/old <commit> && cargo build --release \
#       --manifest-path /tmp/old/Cargo.toml && bench/ab.sh /tmp/old/target/release/pare
source "$(dirname "$0")/common.sh"
require hyperfine
OLD="${1:?usage: bench/ab.sh OLD_PARE [IMAGE_NAME...]}"
shift
NAMES=("${@:-debian redis nginx python apps}")
read -r -a NAMES <<<"${NAMES[*]}"

echo "| image | form | command | A ms | B ms | B vs A | A peak MB | B peak MB |"
echo "|---|---|---|---|---|---|---|---|"
for name in "${NAMES[@]}"; do
    archive="$IMAGES_DIR/$name.tar"
    "$PARE" copy "docker-archive:$archive" "oci:$WORK/$name-oci" >/dev/null
    for form in docker-archive oci; do
        if [[ $form == docker-archive ]]; then ref="docker-archive:$archive"
        else ref="oci:$WORK/$name-oci"; fi
        for cmd in inspect sbom audit minify; do
            args=("$cmd" "$ref")
            prep="true"
            if [[ $cmd == minify ]]; then
                [[ $name == debian || $name == apps ]] && continue # no entry point to follow
                args+=(--static-only -o "oci:$WORK/out")
                prep="rm -rf $WORK/out"
            fi
            hyperfine -N --warmup 1 --runs 7 --export-json "$WORK/r.json" --prepare "$prep" \
                -n A "$OLD ${args[*]}" -n B "$PARE ${args[*]}" >/dev/null
            read -r a_ms b_ms < <(means_ms "$WORK/r.json" A B)
            rm -rf "$WORK/out"
            a_kb=$(peak_kb "$OLD" "${args[@]}")
            rm -rf "$WORK/out"
            b_kb=$(peak_kb "$PARE" "${args[@]}")
            rm -rf "$WORK/out"
            change=$(python3 -c "print('%+.1f %%' % (($b_ms - $a_ms) * 100.0 / $a_ms))")
            echo "| $name | $form | $cmd | $a_ms | $b_ms | $change | $((a_kb / 1024)) | $((b_kb / 1024)) |"
        done
    done
done
