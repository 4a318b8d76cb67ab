#!/usr/bin/env bash
# Checks that the modules of src/ depend one way (the order of docs/architecture.md):
# a module may use modules below it, never one above it, and sibling files of one module
# never import each other in a circle. Exits non-zero and names the offending line.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - "$@" <<'PY'
import pathlib, re, sys
# Lowest first. Keep in step with docs/architecture.md.
ORDER = ["ids", "entropy", "chain", "clock", "purpose", "data", "policy", "grant", "crypto", "store",
         "consent", "gpc", "sharing", "disclosure", "retention", "staff", "dsr", "ledger", "custodian",
         "danger"]
rank = {m: i for i, m in enumerate(ORDER)}
src = pathlib.Path("src")
bad = []
def module_of(p):
    rel = p.relative_to(src).parts
    return rel[0][:-3] if len(rel) == 1 else rel[0]
# `$crate::` paths are inside exported macros: they are expanded in the calling crate and
# name the public path there (`$crate::consent::Permission`), not an import of this module.
ref = re.compile(r"(?<!\$)crate::([a-z_]+)")
files = sorted(p for p in src.rglob("*.rs") if p.name != "lib.rs")
for p in files:
    m = module_of(p)
    if m not in rank:
        bad.append(f"{p}: module `{m}` has no place in the layer order (add it to scripts/layers.sh and docs/architecture.md)")
        continue
    in_tests = False
    for n, line in enumerate(p.read_text().splitlines(), 1):
        if line.strip().startswith("//"):
            continue
        if line.startswith("#[cfg(test)]"):
            in_tests = True
        if in_tests:
            continue
        for used in ref.findall(line):
            if used in rank and rank[used] > rank[m]:
                bad.append(f"{p}:{n}: `{m}` uses `{used}`, a layer above it: {line.strip()}")
# Sibling files of one module: no import circle.
sib = re.compile(r"(?:super|self)::([a-z_]+)")
for d in sorted({p.parent for p in files if p.parent != src}):
    names = {p.stem for p in d.glob("*.rs") if p.name != "mod.rs"}
    edges = {}
    for p in d.glob("*.rs"):
        if p.name == "mod.rs":
            continue
        text = p.read_text().split("#[cfg(test)]")[0]
        edges[p.stem] = {t for t in sib.findall(text) if t in names and t != p.stem}
    def cycle_from(start):
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in edges.get(node, ()):
                if nxt == start:
                    return path + [start]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
        return None
    for s in sorted(edges):
        c = cycle_from(s)
        if c:
            bad.append(f"{d}: import circle {' -> '.join(c)}")
            break
if bad:
    print("layer check failed:")
    print("\n".join(bad))
    sys.exit(1)
print(f"layers ok: {len(files)} files, order {' < '.join(ORDER)}")
PY
