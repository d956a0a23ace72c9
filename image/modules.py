#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Copies the kernel modules a list names, with everything they depend on, into an image.

Usage: modules.py KERNEL_MODULES_DIR LIST DEST_MODULES_DIR OUT_LIST

KERNEL_MODULES_DIR is an unpacked lib/modules/<release>. Names the kernel has built in are
left out of OUT_LIST (nothing to load); names it lacks are reported and left out too, so one
list serves kernels with different drivers. depmod is run on the result afterwards.
"""
import os
import shutil
import sys


def norm(name):
    return name.replace("-", "_")


def modname(path):
    base = os.path.basename(path)
    for ext in (".ko.xz", ".ko.zst", ".ko.gz", ".ko"):
        if base.endswith(ext):
            return norm(base[: -len(ext)])
    return norm(base)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    kdir, listfile, dest, outlist = sys.argv[1:]
    deps, paths = {}, {}
    with open(os.path.join(kdir, "modules.dep")) as f:
        for line in f:
            mod, _, rest = line.partition(":")
            paths[modname(mod)] = mod
            deps[modname(mod)] = [modname(d) for d in rest.split()]
    builtin = set()
    with open(os.path.join(kdir, "modules.builtin")) as f:
        builtin = {modname(line.strip()) for line in f if line.strip()}

    wanted, keep = [], []
    with open(listfile) as f:
        for line in f:
            name = norm(line.split("#", 1)[0].strip())
            if not name:
                continue
            if name in builtin:
                continue
            if name not in paths:
                print(f"modules: {name}: not in this kernel, left out")
                continue
            keep.append(name)
            stack = [name]
            while stack:
                m = stack.pop()
                if m in wanted:
                    continue
                wanted.append(m)
                stack.extend(deps.get(m, []))
    for m in wanted:
        src = os.path.join(kdir, paths[m])
        dst = os.path.join(dest, paths[m])
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
    for f in ("modules.builtin", "modules.builtin.modinfo", "modules.order"):
        if os.path.exists(os.path.join(kdir, f)):
            shutil.copyfile(os.path.join(kdir, f), os.path.join(dest, f))
    with open(outlist, "w") as f:
        f.write("# Generated from config/modules by image/modules.py for this kernel.\n")
        f.write("".join(n + "\n" for n in keep))
    print(f"modules: {len(keep)} listed, {len(wanted)} shipped with their dependencies")


if __name__ == "__main__":
    main()
