#!/usr/bin/env bash
# Benchmark: the offline vulnerability database and `pare scan`.
#  1. `pare db import` of the whole PyPA advisory database (2661 YAML
#     records) and of the Debian tracker reference records, into a new
#     database each run;
#  2. `pare scan` of each image once the database exists, beside
#     `pare sbom` of the same image (what a scan adds to cataloguing) and
#     Syft's cataloguing of it (what Grype would start from), in one run.
# Prints Markdown tables for BENCHMARKS.md.
#
#   bench/vuln.sh [IMAGE_NAME...]   (default: debian redis python pyold)
source "$(dirname "$0")/common.sh"
require hyperfine syft
NAMES=("${@:-debian redis python pyold}")
read -r -a NAMES <<<"${NAMES[*]}"
export SYFT_CHECK_FOR_APP_UPDATE=false
DATA="$ROOT/crates/pare-vuln/tests/data"

echo "| import | records | mean | peak RSS |"
echo "|---|---|---|---|"
for source in pypa-osv debian-tracker; do
    hyperfine -N --warmup 1 --runs 5 --prepare "rm -f $WORK/import.db" --export-json "$WORK/i.json" \
        -n import "$PARE db import --db $WORK/import.db $DATA/$source" >/dev/null
    read -r ms < <(means_ms "$WORK/i.json" import)
    rm -f "$WORK/import.db"
    kb=$(peak_kb "$PARE" db import --db "$WORK/import.db" "$DATA/$source")
    records=$("$PARE" db status --format json --db "$WORK/import.db" \
        | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["osv_records"]+s["debian_cves"]+s["debian_advisories"])')
    rm -f "$WORK/import.db"
    echo "| $source | $records | ${ms} ms | $((kb / 1024)) MB |"
done

DB="$WORK/vulns.db"
"$PARE" db import --db "$DB" "$DATA/pypa-osv" "$DATA/debian-tracker/records" "$DATA/debian-tracker/dsa" >/dev/null
echo
echo "| image | findings | pare scan | pare sbom | syft (catalog only) | scan peak RSS |"
echo "|---|---|---|---|---|---|"
for name in "${NAMES[@]}"; do
    ref="docker-archive:$IMAGES_DIR/$name.tar"
    hyperfine -N --warmup 1 --runs 5 --export-json "$WORK/r.json" \
        -n scan "$PARE scan --db $DB --format json $ref" \
        -n sbom "$PARE sbom --format json $ref" \
        -n syft "syft -q $ref -o json" >/dev/null
    read -r scan_ms sbom_ms syft_ms < <(means_ms "$WORK/r.json" scan sbom syft)
    kb=$(peak_kb "$PARE" scan --db "$DB" --format json "$ref")
    findings=$("$PARE" scan --db "$DB" --format json "$ref" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["total"])')
    echo "| $name | $findings | ${scan_ms} ms | ${sbom_ms} ms | ${syft_ms} ms | $((kb / 1024)) MB |"
done
