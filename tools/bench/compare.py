#!/usr/bin/env python3
"""Compares two benchmark runs written by tools/bench/run.

    tools/bench/compare.py OLD.json NEW.json

For each benchmark in either run: the value and the ratio to its baseline in each run, and how
the ratio changed. Compare ratios rather than raw rates: each ratio's baseline was measured in
the same run, on the same machine, under the same load.
"""

import json
import sys


def load(path):
    with open(path) as f:
        document = json.load(f)
    return document, {r["name"]: r for r in document["results"]}


def fmt(value, digits=2):
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    (old_doc, old), (new_doc, new) = load(sys.argv[1]), load(sys.argv[2])
    print(f"old: {sys.argv[1]} ({old_doc.get('commit', '?')[:10]}, {old_doc['started']})")
    print(f"new: {sys.argv[2]} ({new_doc.get('commit', '?')[:10]}, {new_doc['started']})\n")
    names = list(old) + [n for n in new if n not in old]
    header = ["name", "unit", "old value", "new value", "old ratio", "new ratio", "ratio change",
              "old p99 ms", "new p99 ms"]
    rows = []
    for name in names:
        a, b = old.get(name, {}), new.get(name, {})
        ra, rb = a.get("ratio"), b.get("ratio")
        change = f"{(rb / ra - 1) * 100:+.0f}%" if ra and rb else "-"
        rows.append([name, (a or b).get("unit", ""), fmt(a.get("value")), fmt(b.get("value")),
                     fmt(ra), fmt(rb), change, fmt(a.get("p99_ms")), fmt(b.get("p99_ms"))])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(r, widths))))


if __name__ == "__main__":
    main()
