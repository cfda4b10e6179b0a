#!/usr/bin/env python3
"""layering.py: the language's four subsystems call only downward, and no two object
files call each other, even through others (src/README.md).

usage: layering.py BUILDDIR

Reads `nm` of the convenience libraries (src/lang/{front,lib,ad,back}/.libs/lib*.a):
which object file defines and which uses each symbol.  Fails when a file uses one in a
folder it may not use (front/ none, ad/ none, lib/ ad/, back/ the other three), or when
the files form a dependency cycle (reported as the files on it)."""
import os
import subprocess
import sys

ALLOWED = {"front": set(), "ad": set(), "lib": {"ad"}, "back": {"front", "lib", "ad"}}


def symbols(archive):
    """{member: (defined, undefined)} from nm's portable output."""
    out = subprocess.run(["nm", "-A", "-P", archive], check=True, capture_output=True,
                         text=True).stdout
    files = {}
    for line in out.splitlines():
        head, _, rest = line.partition(": ")
        member = head[head.rfind("[") + 1:-1] if head.endswith("]") else os.path.basename(head)
        parts = rest.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        d, u = files.setdefault(member, (set(), set()))
        if kind == "U":
            u.add(name)
        elif kind in "TDRBCVW":
            d.add(name)
    return files


def main(builddir):
    where, uses = {}, {}
    for folder in ALLOWED:
        archive = os.path.join(builddir, "src", "lang", folder, ".libs", "lib%s.a" % folder)
        for member, (d, u) in symbols(archive).items():
            f = "%s/%s" % (folder, member)
            for s in d:
                where[s] = f
            uses[f] = u
    errs = []
    edges = {f: set() for f in uses}
    for f, u in uses.items():
        for s in u:
            g = where.get(s)
            if not g or g == f:
                continue
            edges[f].add(g)
            a, b = f.split("/")[0], g.split("/")[0]
            if a != b and b not in ALLOWED[a]:
                errs.append("%s uses %s from %s (%s/ may not use %s/)" % (f, s, g, a, b))
    # cycles: Tarjan's strongly connected components
    index, low, stack, on, comps = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    for c in comps:
        errs.append("dependency cycle: " + " ".join(c))
    for e in sorted(set(errs)):
        print("FAIL: " + e)
    print("%d object files, %d dependencies between them" %
          (len(edges), sum(len(e) for e in edges.values())))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
