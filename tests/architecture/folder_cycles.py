#!/usr/bin/env python3
"""Fails when the repository's top-level folders depend on each other in a cycle.

A folder A depends on a folder B when a BUILD file under A names a label //B... (outside
`data` attributes: a test reading another folder's files at run time does not build on
its code) or a source file under A has #include "B/...". Folders must form a layering (util below
kernels below model below trainer, rpc below server and worker, ...): a cycle such as
data -> model -> data or server <-> worker means the two cannot be understood, built or
reused apart. Each cycle is reported with the file and line of every dependency in it.

Usage: folder_cycles.py [REPOSITORY_ROOT]   (default: the repository holding this file)
Python 3 standard library only; exit status 0 without cycles, 1 with, 2 on bad usage.
"""

import os
import re
import sys

SOURCE_SUFFIXES = (".h", ".hpp", ".cc", ".cpp", ".c", ".cu", ".cuh")
BUILD_NAMES = ("BUILD", "BUILD.bazel")
LABEL = re.compile(r'"//([A-Za-z0-9_.\-]+)(?=[/:"])')
DATA_ATTRIBUTE = re.compile(r"\bdata\s*=\s*\[[^\]]*\]", re.DOTALL)
INCLUDE = re.compile(r'^\s*#\s*include\s*"([A-Za-z0-9_.\-]+)/')


def top_level_folders(root):
    return sorted(
        name for name in os.listdir(root)
        if os.path.isdir(os.path.join(root, name))
        and not name.startswith(".") and not name.startswith("bazel-"))


def dependencies(root, folders):
    """{(from, to): "path:line"} for the first place each folder-to-folder edge occurs."""
    known = set(folders)
    edges = {}
    for folder in folders:
        for directory, subdirs, files in os.walk(os.path.join(root, folder)):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            for name in sorted(files):
                if name in BUILD_NAMES:
                    pattern = LABEL
                elif name.endswith(SOURCE_SUFFIXES):
                    pattern = INCLUDE
                else:
                    continue
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                if pattern is LABEL:
                    # Blank out data attributes and comments, keeping the line numbers.
                    text = DATA_ATTRIBUTE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
                    text = re.sub(r"#[^\n]*", "", text)
                for number, line in enumerate(text.split("\n"), 1):
                    for target in pattern.findall(line):
                        if target in known and target != folder:
                            where = "%s:%d" % (os.path.relpath(path, root), number)
                            edges.setdefault((folder, target), where)
    return edges


def strongly_connected(folders, edges):
    """Tarjan's algorithm; the components with more than one folder."""
    successors = {f: sorted(t for (s, t) in edges if s == f) for f in folders}
    index, low, on_stack, stack, components = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in successors[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for f in folders:
        if f not in index:
            visit(f)
    return components


def cycle_in(component, edges):
    """One cycle through the component's first folder, as a list of folders."""
    members = set(component)
    start = component[0]
    # Breadth-first search back to start inside the component.
    parents = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for (s, t) in sorted(edges):
                if s != v or t not in members:
                    continue
                if t == start:
                    path = [v]
                    while parents[path[-1]] is not None:
                        path.append(parents[path[-1]])
                    return list(reversed(path)) + [start]
                if t not in parents:
                    parents[t] = v
                    following.append(t)
        frontier = following
    return [start]


def main(argv):
    if len(argv) > 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = argv[1] if len(argv) == 2 else os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    if not os.path.isfile(os.path.join(root, "WORKSPACE")):
        print("folder_cycles: %s is not the repository root (no WORKSPACE)" % root,
              file=sys.stderr)
        return 2
    folders = top_level_folders(root)
    edges = dependencies(root, folders)
    components = strongly_connected(folders, edges)
    if not components:
        print("folder_cycles: no cycle among %d folders (%d dependencies)"
              % (len(folders), len(edges)))
        return 0
    for component in components:
        cycle = cycle_in(component, edges)
        print("folder_cycles: cycle among {%s}: %s" % (", ".join(component), " -> ".join(cycle)))
        for s, t in zip(cycle, cycle[1:]):
            print("  %s -> %s at %s" % (s, t, edges[(s, t)]))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
