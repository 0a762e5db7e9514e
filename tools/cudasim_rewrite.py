#!/usr/bin/env python3
"""cudasim build step: rewrites a .cu file into C++ for the CPU harness (csrc/cudasim), keeping
every line where it was (diagnostics and __LINE__ point at the .cu file through #line).

  kernel<<<grid, block, shmem, stream>>>(args);
    -> ::cudasim::launch("kernel", __FILE__, __LINE__, [&](auto&&... a) { kernel(a...); },
                         ::cudasim::Config(grid, block, shmem, stream), args);
  __shared__ T a[N], b[M];
    -> static char cudasim_tag_a; auto& a = ::cudasim::shared_var<T[N]>(&cudasim_tag_a); ...

Not handled (the rewrite stops with an error): `extern __shared__` (dynamic shared memory), and
__shared__ declarations with initialisers. Comments and strings are not parsed: a `<<<` or
`__shared__` inside a comment is rewritten too (harmless) or rejected.

Usage: cudasim_rewrite.py SRC.cu OUT.cc [DISPLAY_PATH]
"""

import re
import sys

IDENT = re.compile(r"[A-Za-z0-9_:]")


def match_back(text, close, open_, i):
    """Index of the `open_` matching the `close` at text[i], scanning backwards."""
    depth = 0
    while i >= 0:
        if text[i] == close:
            depth += 1
        elif text[i] == open_:
            depth -= 1
            if depth == 0:
                return i
        i -= 1
    raise ValueError("unbalanced " + close)


def match_forward(text, open_, close, i):
    depth = 0
    while i < len(text):
        if text[i] == open_:
            depth += 1
        elif text[i] == close:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced " + open_)


def kernel_start(text, end):
    """Start of the kernel expression that ends just before text[end] (a name, qualified, with
    template arguments)."""
    i = end - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    while i >= 0:
        if text[i] == ">":
            i = match_back(text, ">", "<", i) - 1
            while i >= 0 and text[i].isspace():
                i -= 1
        elif IDENT.match(text[i]):
            while i >= 0 and IDENT.match(text[i]):
                i -= 1
            return i + 1
        else:
            break
    raise ValueError("no kernel name before <<<")


def rewrite_launches(text):
    out, pos = [], 0
    while True:
        k = text.find("<<<", pos)
        if k < 0:
            out.append(text[pos:])
            return "".join(out)
        start = kernel_start(text, k)
        kernel = text[start:k]
        cfg_end = text.find(">>>", k)
        cfg = text[k + 3 : cfg_end]
        p = cfg_end + 3
        while text[p].isspace():
            p += 1
        if text[p] != "(":
            raise ValueError("expected ( after >>>")
        close = match_forward(text, "(", ")", p)
        args = text[p + 1 : close]
        between = text[cfg_end + 3 : p]  # whitespace, maybe newlines
        name = " ".join(kernel.split())
        sep = ", " if args.strip() else ""
        out.append(text[pos:start])
        out.append(
            f'::cudasim::launch("{name}", __FILE__, __LINE__, [&](auto&&... cudasim_a) {{ {kernel}(cudasim_a...); }}, '
            f"::cudasim::Config({cfg}){between}{sep}{args})"
        )
        pos = close + 1


SHARED = re.compile(r"\b__shared__\b([^;]*);")


def split_top(s, sep=","):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def rewrite_shared(text):
    def one(m):
        decl = m.group(1)
        if "=" in decl or re.search(r"\bextern\b", text[max(0, m.start() - 20) : m.start()]):
            raise ValueError("unsupported __shared__ declaration: " + m.group(0))
        parts = split_top(decl)
        first = re.match(r"\s*(.*?)\s*\b([A-Za-z_]\w*)\s*((?:\[[^\]]*\]\s*)*)$", parts[0], re.S)
        if not first:
            raise ValueError("cannot parse __shared__ declaration: " + m.group(0))
        base, decls = first.group(1), [(first.group(2), first.group(3))]
        for p in parts[1:]:
            d = re.match(r"\s*([A-Za-z_]\w*)\s*((?:\[[^\]]*\]\s*)*)$", p, re.S)
            if not d:
                raise ValueError("cannot parse __shared__ declarator: " + p)
            decls.append((d.group(1), d.group(2)))
        out = []
        for name, dims in decls:
            dims = " ".join(dims.split())
            out.append(
                f"static char cudasim_tag_{name}; "
                f"auto& {name} = ::cudasim::shared_var<{' '.join(base.split())}{dims}>(&cudasim_tag_{name});"
            )
        newlines = m.group(0).count("\n")
        return " ".join(out) + "\n" * newlines

    return SHARED.sub(one, text)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    shown = sys.argv[3] if len(sys.argv) > 3 else src
    text = open(src).read()
    try:
        body = rewrite_shared(rewrite_launches(text))
    except ValueError as e:
        sys.exit(f"{src}: cudasim rewrite: {e}")
    assert body.count("\n") == text.count("\n"), "line count changed"
    with open(dst, "w") as f:
        f.write(f'#line 1 "{shown}"\n' + body)


if __name__ == "__main__":
    main()
