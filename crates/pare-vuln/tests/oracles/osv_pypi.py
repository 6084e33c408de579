#!/usr/bin/env python3
"""Prints `NAME ID FIXED` for each OSV record in FOLDER that affects PyPI
package NAME at VERSION, one per line, for every NAME=VERSION given (FIXED:
the smallest fixed version above VERSION in a matching range, or `-`): the oracle pare scan's PyPI matching is checked
against. Independent of pare: PyYAML reads the records, pip's vendored
`packaging` orders versions (PEP 440), and the evaluation follows the OSV
schema's documented algorithm (ECOSYSTEM ranges: introduced/fixed/
last_affected/limit events, sorted; plus the explicit `versions` list).

usage: osv_pypi.py FOLDER NAME=VERSION...
"""
import pathlib
import re
import sys

import yaml

try:
    from packaging.version import InvalidVersion, Version
except ImportError:
    from pip._vendor.packaging.version import InvalidVersion, Version


def normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def key(v):
    return Version(str(v))


def in_range(events, installed):
    """OSV's evaluation: walk events sorted by version; the last event at or
    below the installed version decides. Returns (affected, fixes above)."""
    points = []
    for event in events:
        for kind, value in event.items():
            try:
                points.append((key(value), kind, value))
            except InvalidVersion:
                pass
    points.sort(key=lambda p: p[0])
    affected = False
    for version, kind, _ in points:
        if kind == "introduced" and version <= installed:
            affected = True
        elif kind == "fixed" and version <= installed:
            affected = False
        elif kind == "last_affected" and version < installed:
            affected = False
        elif kind == "limit" and version <= installed:
            affected = False
    fixes = [version for version, kind, _ in points if kind == "fixed" and version > installed]
    return affected, fixes


def affects(record, name, version):
    """None when the record does not affect NAME at VERSION, else the fixed
    version (or "-")."""
    if record.get("withdrawn"):
        return None
    installed = Version(version)
    hit, fixes = False, []
    for affected in record.get("affected") or []:
        package = affected.get("package") or {}
        if package.get("ecosystem") != "PyPI" or normalise(package.get("name", "")) != name:
            continue
        for listed in affected.get("versions") or []:
            try:
                hit = hit or Version(str(listed)) == installed
            except InvalidVersion:
                pass
        for r in affected.get("ranges") or []:
            if r.get("type") != "ECOSYSTEM":
                continue
            in_it, above = in_range(r.get("events") or [], installed)
            if in_it:
                hit = True
                fixes += above
    if not hit:
        return None
    return str(min(fixes)) if fixes else "-"


def main():
    folder = pathlib.Path(sys.argv[1])
    wanted = [arg.split("=", 1) for arg in sys.argv[2:]]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted(folder.rglob("*.yaml")):
        record = yaml.load(path.read_text(), Loader=loader)
        if not isinstance(record, dict):
            continue
        for name, version in wanted:
            fixed = affects(record, normalise(name), version)
            if fixed is not None:
                print(name, record["id"], fixed)


main()
