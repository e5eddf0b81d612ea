#!/usr/bin/env python3
"""Checks that every translation unit compiles against LibTorch 2.x, and the NCCL path against CUDA.

The default build uses Debian 12's LibTorch 1.13; the code must also compile against 2.x, and the
NCCL process group (src/taupe/dist/cluster.cpp, compiled only in CUDA builds) must compile where
no GPU build is at hand. Debian 13 packages LibTorch 2.6. This script downloads its libtorch-dev
package through a private apt configuration (the system's sources stay untouched), unpacks the
headers, and runs the compiler with -fsyntax-only on each translation unit of a LibTorch target in
BUILD/compile_commands.json, the 2.x headers searched before the system's 1.13 ones and the 1.13
precompiled header left out. Nothing is linked: Debian 13's libraries need a newer C library.

--cuda also downloads Debian 12's nvidia-cuda-dev (non-free, about 770 MB) for the CUDA headers,
writes the one configure-time header a CUDA LibTorch build generates (c10/cuda/impl/
cuda_cmake_macros.h), and checks cluster.cpp with USE_C10D_NCCL and TAUPE_REQUIRE_NCCL defined
against both 1.13 and 2.x. Debian does not package NCCL: pass a directory holding nccl.h.

Usage: python3 scripts/torch2_check.py [--build build] [--cache build-torch2-check] [--jobs N]
                                       [--only SUBSTRING] [--cuda --nccl-include DIR]
Exit status 1 when a translation unit fails (its first compiler lines are printed).
"""
import argparse
import concurrent.futures
import json
import os
import pathlib
import shlex
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
MIRROR = "http://deb.debian.org/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
TORCH2 = ("trixie", "main", "libtorch-dev")
CUDA = ("bookworm", "non-free", "nvidia-cuda-dev")
CLUSTER = "src/taupe/dist/cluster.cpp"
SYSTEM_TORCH_API = "/usr/include/torch/csrc/api/include"


def apt_options(cache, suite, components):
    """apt options that read one Debian suite into CACHE/apt-SUITE, leaving the system's untouched."""
    base = cache / f"apt-{suite}"
    for d in ("lists/partial", "archives/partial", "parts", "prefs"):
        (base / d).mkdir(parents=True, exist_ok=True)
    sources = base / "sources.list"
    sources.write_text(f"deb [signed-by={KEYRING}] {MIRROR} {suite} {components}\n")
    pairs = {"Dir::Etc::SourceList": sources, "Dir::Etc::SourceParts": base / "parts",
             "Dir::Etc::PreferencesParts": base / "prefs", "Dir::Etc::Preferences": "/dev/null",
             "Dir::State::Lists": base / "lists", "Dir::Cache": base, "APT::Sandbox::User": "root"}
    return [x for k, v in pairs.items() for x in ("-o", f"{k}={v}")]


def fetch_headers(cache, spec, members):
    """Downloads package PKG of SUITE (once) and unpacks MEMBERS of it into CACHE/PKG; returns that."""
    suite, components, pkg = spec
    dest = cache / pkg
    if (dest / ".done").exists():
        return dest
    opts = apt_options(cache, suite, components)
    subprocess.run(["apt-get", *opts, "update", "-qq"], check=True)
    show = subprocess.run(["apt-cache", *opts, "show", pkg], check=True, capture_output=True, text=True)
    version = next(line.split(None, 1)[1] for line in show.stdout.splitlines() if line.startswith("Version:"))
    subprocess.run(["apt-get", *opts, "download", "-qq", f"{pkg}={version}"], check=True, cwd=cache)
    deb = next(cache.glob(f"{pkg}_*.deb"))
    dest.mkdir(exist_ok=True)
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(dest), "--wildcards", *members], stdin=tar.stdout, check=True)
    if tar.wait() != 0:
        sys.exit(f"torch2_check: cannot unpack {deb}")
    deb.unlink()
    (dest / ".done").write_text(version + "\n")
    print(f"torch2_check: {pkg} {version} ({suite}) unpacked in {dest}")
    return dest


def checked_command(entry, torch_include, extra):
    """The entry's compile command as a syntax check, with TORCH_INCLUDE's headers and no PCH."""
    args, out, i = shlex.split(entry["command"]), [], 0
    while i < len(args):
        a = args[i]
        if (a == "-include" and "cmake_pch" in args[i + 1]) or a == "-o":
            i += 2
            continue
        if a == "-isystem" and args[i + 1] == SYSTEM_TORCH_API and torch_include:
            out += ["-isystem", f"{torch_include}", "-isystem", f"{torch_include}/torch/csrc/api/include"]
            i += 2
            continue
        if a != "-c" and not a.startswith("-O"):
            out.append(a)
        i += 1
    return [out[0], *extra, *out[1:], "-O0", "-fsyntax-only", entry["file"]]


def check(entry, torch_include, extra, label):
    r = subprocess.run(checked_command(entry, torch_include, extra), cwd=entry["directory"],
                       capture_output=True, text=True)
    bad = r.returncode != 0 or "warning:" in r.stderr
    name = os.path.relpath(entry["file"], ROOT)
    return bad, f"{'FAIL' if bad else 'ok  '} {label} {name}", r.stderr.splitlines()[:30] if bad else []


def cuda_extra(cache, nccl_include):
    """Include flags for the NCCL path: CUDA headers, nccl.h and the configure-time c10 header."""
    cuda = fetch_headers(cache, CUDA, ["./usr/include/*"])
    gen = cache / "generated" / "c10" / "cuda" / "impl"
    gen.mkdir(parents=True, exist_ok=True)
    (gen / "cuda_cmake_macros.h").write_text("#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n")
    return ["-DUSE_C10D_NCCL", "-DTAUPE_REQUIRE_NCCL", "-isystem", str(cache / "generated"),
            "-isystem", str(nccl_include), "-isystem", str(cuda / "usr" / "include")]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default="build", help="build directory with compile_commands.json")
    p.add_argument("--cache", default="build-torch2-check", help="where the packages are unpacked")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--only", default="", help="check only files whose path contains this")
    p.add_argument("--cuda", action="store_true", help="also check the NCCL path (needs --nccl-include)")
    p.add_argument("--nccl-include", help="directory holding nccl.h")
    a = p.parse_args()
    if a.cuda and not (a.nccl_include and (pathlib.Path(a.nccl_include) / "nccl.h").is_file()):
        sys.exit("torch2_check: --cuda needs --nccl-include DIR with DIR/nccl.h (Debian does not package NCCL)")
    commands = ROOT / a.build / "compile_commands.json"
    if not commands.is_file():
        sys.exit(f"torch2_check: {commands} is missing; configure a build first (scripts/build.sh)")
    cache = (ROOT / a.cache).resolve()
    cache.mkdir(exist_ok=True)
    torch2 = fetch_headers(cache, TORCH2, ["./usr/include/*"]) / "usr" / "include"
    # Translation units of targets that do not link LibTorch cannot depend on its version.
    entries = [e for e in json.load(open(commands)) if SYSTEM_TORCH_API in e["command"]
               and a.only in e["file"] and str(ROOT / a.build) not in e["file"]]
    jobs = [(e, torch2, [], "2.x") for e in entries]
    if a.cuda:
        extra = cuda_extra(cache, pathlib.Path(a.nccl_include).resolve())
        for e in (e for e in entries if e["file"].endswith(CLUSTER)):
            jobs += [(e, None, extra, "1.13+NCCL"), (e, torch2, extra, "2.x+NCCL")]
    failures = 0
    with concurrent.futures.ThreadPoolExecutor(max(1, a.jobs)) as pool:
        for bad, line, detail in pool.map(lambda j: check(*j), jobs):
            failures += bad
            print(line, *("    " + d for d in detail), sep="\n", flush=True)
    print(f"torch2_check: {len(jobs) - failures} of {len(jobs)} compile, {failures} fail")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as e:
        sys.exit(f"torch2_check: `{' '.join(map(str, e.cmd))}` failed (exit {e.returncode}); "
                 f"the packages come from {MIRROR}")
