# Sourced by every benchmark script: the release build of pare, the cached
# test images, a scratch folder removed on exit, and small helpers.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGES_DIR="${PARE_TEST_IMAGES:-/var/cache/pare-test-images/v1}"
PARE="$ROOT/target/release/pare"
cargo build --release -q --manifest-path "$ROOT/Cargo.toml"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT

# require TOOL...: stop with a clear line when a tool is missing.
require() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
    done
}

# peak_kb COMMAND...: the command's peak resident memory in KiB.
peak_kb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n1; }

# means_ms JSON NAME...: the mean times (ms, rounded) of the named commands
# in a `hyperfine --export-json` file, in the order asked, on one line.
means_ms() {
    python3 - "$@" <<'PY'
import json, sys
results = {r["command"]: r["mean"] * 1000 for r in json.load(open(sys.argv[1]))["results"]}
print(" ".join("%.0f" % results[name] for name in sys.argv[2:]))
PY
}
