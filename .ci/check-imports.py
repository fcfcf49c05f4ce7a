#!/usr/bin/env python3
"""Every `import` of one of this package's modules must name a direct dependency of the importing
target in Package.swift. SwiftPM accepts a module that arrives transitively (DLCMServer could
import DLCMRuntime through DLCMEngine), which lets layers reach into each other unseen; this check
makes each such edge a line in Package.swift.

  .ci/check-imports.py            # reads `swift package dump-package`
  .ci/check-imports.py PKG.json   # or a saved dump (tests)

Exits 1 and lists each undeclared import, 0 when there are none.
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# `import X`, `@testable import X`, `import struct X.Y`, `@_exported import X`, `public import X`.
IMPORT = re.compile(r"^\s*(?:@\w+\s+)*(?:(?:public|package|internal|private|fileprivate)\s+)?import\s+"
                    r"(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?([A-Za-z_]\w*)", re.M)


def target_dir(t: dict) -> str:
    if t.get("path"):
        return os.path.join(ROOT, t["path"])
    base = "Tests" if t["type"] == "test" else "Sources"
    return os.path.join(ROOT, base, t["name"])


def direct_dependencies(t: dict) -> set[str]:
    names = set()
    for dep in t["dependencies"]:
        for kind in ("byName", "target", "product"):
            if kind in dep:
                names.add(dep[kind][0])
    return names


def undeclared(package: dict) -> list[str]:
    targets = package["targets"]
    own = {t["name"] for t in targets}
    problems = []
    for t in targets:
        if t["type"] == "system":
            continue
        allowed = direct_dependencies(t) | {t["name"]}
        root = target_dir(t)
        for dirpath, _, files in os.walk(root):
            for f in sorted(files):
                if not f.endswith(".swift"):
                    continue
                path = os.path.join(dirpath, f)
                text = open(path, encoding="utf-8").read()
                for m in IMPORT.finditer(text):
                    module = m.group(1)
                    if module in own and module not in allowed:
                        line = text.count("\n", 0, m.start()) + 1
                        problems.append(f"{os.path.relpath(path, ROOT)}:{line}: {t['name']} imports {module}, "
                                        f"not a direct dependency in Package.swift")
    return problems


def main() -> int:
    if len(sys.argv) > 1:
        package = json.load(open(sys.argv[1]))
    else:
        out = subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        package = json.loads(out)
    problems = undeclared(package)
    for p in problems:
        print(p)
    print(f"check-imports: {len(problems)} undeclared import(s)" if problems else "check-imports: every import is declared")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
