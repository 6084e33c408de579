// The npm / crates.io oracle of tests/ecosystems.rs: evaluates the OSV
// records of a folder for (name, version) queries read from stdin
// ("name\tversion" a line) with npm's own `semver` package (Debian's
// node-semver): each introduced..fixed / ..last_affected interval becomes
// a range `>=A <B` (`<=B`) that `semver.satisfies` judges, with
// pre-releases included so the comparison is plain SemVer 2.0 precedence,
// as OSV's SEMVER type (and npm's ECOSYSTEM) specifies. Prints
// "name\tversion\tID\tfixed" for every record affecting the query ("-"
// when no fix is known). Nothing here comes from pare.
'use strict';
const fs = require('fs');
const path = require('path');
const semver = require('semver');

const [dir, ecosystem] = process.argv.slice(2);
const records = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
const opts = { includePrerelease: true };
const low = (v) => (v === '0' ? '0.0.0-0' : v);
const value = (e) => e.introduced ?? e.fixed ?? e.last_affected ?? e.limit;
const out = [];
const lines = fs.readFileSync(0, 'utf8').split('\n').filter(Boolean);
for (const line of lines) {
  const [name, version] = line.split('\t');
  if (!semver.valid(version)) continue;
  for (const r of records) {
    let affected = false;
    let best = null;
    for (const a of r.affected || []) {
      if (!a.package || a.package.ecosystem !== ecosystem || a.package.name !== name) continue;
      for (const l of a.versions || []) {
        if (semver.valid(l) && semver.eq(l, version)) affected = true;
      }
      for (const rg of a.ranges || []) {
        if (rg.type !== 'SEMVER' && rg.type !== 'ECOSYSTEM') continue;
        const evs = rg.events.map((e, i) => [e, i]).sort((x, y) =>
          semver.compare(low(value(x[0])), low(value(y[0]))) || x[1] - y[1]).map((x) => x[0]);
        for (let i = 0; i < evs.length; i++) {
          const e = evs[i];
          if (e.introduced === undefined) continue;
          const end = evs.slice(i + 1).find((n) => n.introduced === undefined);
          let range = `>=${low(e.introduced)}`;
          if (end && end.fixed !== undefined) range += ` <${end.fixed}`;
          if (end && end.last_affected !== undefined) range += ` <=${end.last_affected}`;
          if (semver.satisfies(version, range, opts)) {
            affected = true;
            if (end && end.fixed !== undefined && (best === null || semver.lt(end.fixed, best))) {
              best = end.fixed;
            }
          }
        }
      }
    }
    if (affected) out.push(`${name}\t${version}\t${r.id}\t${best ?? '-'}`);
  }
}
process.stdout.write(out.map((l) => l + '\n').join(''));
