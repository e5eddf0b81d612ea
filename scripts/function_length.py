#!/usr/bin/env python3
"""Lists the functions in src/ and apps/ longer than a limit (default 80 lines), longest first.

Usage: python3 scripts/function_length.py [--max N] [--check] [paths...]

A function is a brace-delimited body at namespace or class level whose header has a parameter
list (lambdas and blocks inside functions count towards their function). Comments and string
literals are ignored. A function preceded by a `// flat table` comment line is exempt: a flat
list of entries reads at any length.

--check: exit 1 when any function is over the limit (ctest runs it as `function_length`).
"""
import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONTROL = re.compile(r"^(if|for|while|switch|catch|do|else|try|return)\b")
SCOPE = re.compile(r"^(template\s*<.*>\s*)?(namespace|class|struct|union|enum|extern)\b")


def strip(text):
    """Blanks preprocessor lines, comments, string and character literals, keeping newlines."""
    text = re.sub(r"(?m)^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == 'R' and text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + (m.group(1) if m else "") + '"', i)
            j = n if end < 0 else end + len(m.group(1) if m else "") + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (j - i - 1) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(path):
    """(name, first line, line count) of every function defined in `path`."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    raw_lines = raw.split("\n")
    text = strip(raw)
    stack = []          # per open brace: "scope" | "function" | "block"
    header_start = 0    # index where the current declaration's text starts
    found = []
    for i, c in enumerate(text):
        if c in ";}":
            if c == "}" and stack:
                kind, start, name = stack.pop()
                if kind == "function":
                    first = text.count("\n", 0, start) + 1
                    last = text.count("\n", 0, i) + 1
                    exempt = first >= 2 and raw_lines[first - 2].strip().lower() == "// flat table"
                    if not exempt:
                        found.append((name, first, last - first + 1))
            header_start = i + 1
        elif c == "{":
            inside_function = any(k in ("function", "block") for k, _, _ in stack)
            header = " ".join(text[header_start:i].split())
            header = re.sub(r"^(public|private|protected)\s*:\s*", "", header)
            if inside_function:
                stack.append(("block", i, ""))
            elif SCOPE.match(header) and "(" not in header.split("{")[0].split("=")[0]:
                stack.append(("scope", i, ""))
            elif "(" in header and not CONTROL.match(header) and "=" not in header.split("(")[0]:
                m = re.search(r"([~\w:<>]+|operator\s*\S+)\s*\(", header)
                name = m.group(1) if m else header[:40]
                stack.append(("function", i, name))
            else:
                stack.append(("block", i, ""))  # initialiser lists, enums, aggregates
            header_start = i + 1
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max", type=int, default=80)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("paths", nargs="*", default=[str(ROOT / "src"), str(ROOT / "apps")])
    args = ap.parse_args()
    files = []
    for p in map(pathlib.Path, args.paths):
        files += sorted(p.rglob("*.cpp")) + sorted(p.rglob("*.h")) if p.is_dir() else [p]
    long_ones = []
    for f in files:
        rel = f.resolve().relative_to(ROOT).as_posix()
        for name, line, count in functions(f):
            if count > args.max:
                long_ones.append((count, rel, line, name))
    for count, rel, line, name in sorted(long_ones, reverse=True):
        print(f"{rel}:{line}: {name} is {count} lines")
    print(f"{len(long_ones)} functions over {args.max} lines")
    return 1 if args.check and long_ones else 0


if __name__ == "__main__":
    sys.exit(main())
