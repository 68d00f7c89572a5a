#!/usr/bin/env python3
"""Lists import cycles between the files of a Rust crate.

Usage: scripts/module_cycles.py [SRC_DIR ...]   (default: macros/src)

Every file is a module (`lib.rs` is `crate`, `a/mod.rs` is `a`, `a/b.rs` is
`a::b`). A file depends on another when it names it in a path: `use
crate::a::b::Item`, `super::b::f()`, or a child module by its bare name
(`b::f()` in `a/mod.rs`). A path resolves to the longest module prefix
it names, so `crate::a::Item` is a dependency on `a` itself. `mod b;`
declarations are structure, not dependencies. Exits 1 and prints each cycle
(each strongly connected component of two or more files) when any exists.
"""
import re
import sys
from pathlib import Path


def module_of(src: Path, file: Path) -> str:
    rel = file.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts) or "crate"


def strip(code: str) -> str:
    code = re.sub(r"/\*.*?\*/", " ", code, flags=re.S)
    code = re.sub(r'r#*"(?:.|\n)*?"#*', '""', code)
    code = re.sub(r'"(?:\\.|[^"\\])*"', '""', code)
    code = re.sub(r"//[^\n]*", " ", code)
    return code


def expand_use(tree: str):
    """Expands `a::{b, c::{d}}` into full paths."""
    tree = tree.strip()
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
    if start is None:
        yield re.split(r"\s+as\s+", tree)[0].strip()
        return
    prefix = tree[:start].rstrip(":").strip()
    inner = tree[start + 1 : tree.rindex("}")]
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    for part in parts:
        if part.strip():
            for sub in expand_use(part):
                yield f"{prefix}::{sub}" if prefix else sub


def resolve(path: str, current: str, modules: set[str]):
    segs = [s for s in path.split("::") if s]
    if not segs:
        return None
    base = [] if current == "crate" else current.split("::")
    if segs[0] == "crate":
        absolute, segs = [], segs[1:]
    elif segs[0] == "super":
        absolute = base
        while segs and segs[0] == "super":
            absolute, segs = absolute[:-1], segs[1:]
    elif segs[0] == "self":
        absolute, segs = base, segs[1:]
    elif "::".join(base + segs[:1]) in modules:
        absolute = base
    else:
        return None
    full = absolute + segs
    for n in range(len(full), -1, -1):
        name = "::".join(full[:n]) or "crate"
        if name in modules:
            return name
    return None


def graph(src: Path):
    files = {module_of(src, f): f for f in src.rglob("*.rs")}
    modules = set(files)
    edges = {m: set() for m in modules}
    for mod, file in files.items():
        code = strip(file.read_text())
        code = re.sub(r"#\[cfg\(test\)\]\s*mod\s+tests\s*\{.*", "", code, flags=re.S)
        for m in re.finditer(r"\buse\s+([^;]+);", code):
            for path in expand_use(m.group(1)):
                target = resolve(path, mod, modules)
                if target and target != mod:
                    edges[mod].add(target)
        for m in re.finditer(r"(?<![\w:])(\w+(?:::\w+)+)", code):
            target = resolve(m.group(1), mod, modules)
            if target and target != mod:
                edges[mod].add(target)
    return edges


def cycles(edges):
    """Tarjan's strongly connected components of two or more nodes."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    dirs = [Path(d) for d in sys.argv[1:]] or [Path("macros/src")]
    found = False
    for src in dirs:
        edges = graph(src)
        comps = cycles(edges)
        n_edges = sum(len(e) for e in edges.values())
        if comps:
            found = True
            for comp in comps:
                print(f"{src}: import cycle among {', '.join(comp)}")
        else:
            print(f"{src}: no import cycles ({len(edges)} files, {n_edges} dependencies)")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
