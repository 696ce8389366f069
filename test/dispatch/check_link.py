#!/usr/bin/env python3
"""Checks test_dispatch's link map for the two rules one multi-ISA binary
relies on (typenet/cpu/isa_dispatch.hpp):

1. typenet's namespace covers it all: every typenet symbol the copies of
   variant.cpp define lies in the ISA namespace of the copy's own -march
   (the enum typenet::Isa, which has no code, aside).
2. Lowest ISA first: where a function outside typenet (the standard
   library's, Boost's, the program's inline code) is defined by several
   copies, the binary keeps the copy of the lowest ISA, which every CPU the
   binary picks a copy for can run.

usage: check_link.py MAP NM
"""
import os
import re
import subprocess
import sys

ORDER = ["sse", "avx2", "avx512"]  # as test/meson.build links them


def variant_of(path):
    m = re.search(r"dispatch_variant_(sse|avx2|avx512)", path)
    return m.group(1) if m else None


def resolve(path, map_file):
    """The map names objects relative to the linker's directory (the build
    directory under meson), which need not be ours: try it, then the map's
    directory and the one above it."""
    for base in ("", os.path.dirname(map_file), os.path.dirname(os.path.dirname(map_file))):
        candidate = os.path.join(base, path)
        if os.path.exists(candidate):
            return candidate
    sys.exit(f"{path} (named in {map_file}) is not found")


def main():
    map_file, nm = sys.argv[1], sys.argv[2]
    text = open(map_file, encoding="utf-8", errors="replace").read()
    start = text.find("Linker script and memory map")
    if start < 0:
        print(f"{map_file}: not a GNU-style link map (no 'Linker script and memory map')")
        return 1
    body = text[start:]
    # An input section: its name, then (on the same line or the next) its
    # address, size and the object it came from.
    kept = re.findall(r"^ (\.text\.\S+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+(\S+)$", body, re.M)
    archives = {}
    for _, obj in kept:
        v = variant_of(obj)
        if v:
            archives[v] = resolve(obj.split("(")[0], map_file)
    if sorted(archives) != sorted(ORDER):
        print(f"expected code from the three variants, found {sorted(archives)}")
        return 1

    defined = {}
    failures = []
    for v, archive in archives.items():
        out = subprocess.run([nm, "--defined-only", archive], capture_output=True, text=True, check=True).stdout
        defined[v] = {line.split()[-1] for line in out.splitlines() if len(line.split()) >= 3}
        demangled = subprocess.run([nm, "--defined-only", "-C", archive], capture_output=True, text=True,
                                   check=True).stdout
        for line in demangled.splitlines():
            for m in re.finditer(r"typenet::(\w+)", line):
                if m.group(1) not in (f"isa_{v}", "Isa"):
                    failures.append(f"{v}: typenet symbol outside typenet::isa_{v}: {line.strip()[:200]}")
                    break

    for section, obj in kept:
        v = variant_of(obj)
        if v is None:
            continue
        symbol = section[len(".text."):]
        for lower in ORDER[:ORDER.index(v)]:
            if symbol in defined[lower]:
                failures.append(f"{symbol} kept from the {v} copy although the {lower} copy defines it")
    lowest_shared = sum(1 for s, o in kept if variant_of(o) == "sse"
                        and any(s[len(".text."):] in defined[o2] for o2 in ORDER[1:]))
    for f in failures[:20]:
        print(f)
    if failures:
        print(f"{len(failures)} violations")
        return 1
    print(f"ok: {len(kept)} function sections; {lowest_shared} functions defined by several copies, "
          f"each kept from the sse copy; typenet's symbols in their copies' namespaces")
    return 0


if __name__ == "__main__":
    sys.exit(main())
