#!/usr/bin/env python3
"""House rules of the source tree, checked by ctest (test house_rules).

- Every source file git tracks (C/C++, TableGen, protobuf, CMake, Python,
  shell, JavaScript) has at most 700 lines and opens with a comment that
  says what it is for (after a shebang line, if any).
- README.md has at most 250 lines and links every page under docs/.
- Every relative link in README.md and docs/*.md points at a file that
  exists.

Usage: house_rules.py SOURCE_DIR
Prints one line per broken rule and exits 1 if there is any.
"""

import os
import re
import subprocess
import sys

MAX_LINES = 700
MAX_README_LINES = 250
SOURCE = re.compile(r"\.(cpp|h|c|td|def|proto|py|sh|js)$|(^|/)CMakeLists\.txt$")
# Generated or third-party material has no house style to keep.
EXEMPT = re.compile(r"^(fuzz/corpus/|tests/onnx/passing\.txt$)")
COMMENT = {
    "cpp": ("//", "/*"), "h": ("//", "/*"), "c": ("//", "/*"),
    "td": ("//",), "def": ("//",), "proto": ("//",), "js": ("//", "/*"),
    "py": ("#", '"""'), "sh": ("#",), "txt": ("#",),
}


def tracked(root):
    out = subprocess.run(["git", "-C", root, "ls-files"], check=True,
                         capture_output=True, text=True).stdout
    return [p for p in out.splitlines() if SOURCE.search(p)
            and not EXEMPT.search(p)]


def check_sources(root, problems):
    for path in tracked(root):
        full = os.path.join(root, path)
        if not os.path.isfile(full):
            continue
        with open(full, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        if len(lines) > MAX_LINES:
            problems.append(f"{path}: {len(lines)} lines (at most {MAX_LINES}:"
                            " split it where its jobs separate)")
        body = [l for l in lines if l.strip()]
        if body and body[0].startswith("#!"):
            body = body[1:]
        ext = path.rsplit(".", 1)[-1]
        if not body or not body[0].lstrip().startswith(COMMENT[ext]):
            problems.append(f"{path}: does not open with a comment saying "
                            "what it is for")


def links(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # Fenced code holds no links.
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def check_docs(root, problems):
    readme = os.path.join(root, "README.md")
    with open(readme, encoding="utf-8") as f:
        n = len(f.read().splitlines())
    if n > MAX_README_LINES:
        problems.append(f"README.md: {n} lines (at most {MAX_README_LINES}: "
                        "move the detail to a page under docs/)")
    docs = os.path.join(root, "docs")
    pages = sorted(p for p in os.listdir(docs) if p.endswith(".md"))
    readme_links = links(readme)
    for page in pages:
        if not any(l.split("#")[0] == f"docs/{page}" for l in readme_links):
            problems.append(f"README.md: no link to docs/{page}")
    for doc in [readme] + [os.path.join(docs, p) for p in pages]:
        for link in links(doc):
            if re.match(r"^[a-z]+:", link) or link.startswith("#"):
                continue
            target = os.path.normpath(
                os.path.join(os.path.dirname(doc), link.split("#")[0]))
            if not os.path.exists(target):
                problems.append(f"{os.path.relpath(doc, root)}: link "
                                f"'{link}' points at nothing")


def main():
    if len(sys.argv) != 2:
        print("usage: house_rules.py SOURCE_DIR", file=sys.stderr)
        return 2
    root = sys.argv[1]
    problems = []
    check_sources(root, problems)
    check_docs(root, problems)
    for p in problems:
        print(p)
    print(f"house rules: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
