#!/usr/bin/env bash
# pmi/libpmi/build.sh OUTDIR: builds libpmi.so (PMI-1 API) and libpmi2.so
# (PMI-2 API) into OUTDIR, with the sonames libpmi.so.0 and libpmi2.so.0 and
# the usual links (libpmi.so -> libpmi.so.0 -> libpmi.so.0.0.0).
# scripts/build calls it with lib/flux beside bin/, where bin/flux looks.
# CC picks the compiler (default cc). Only the PMI symbols are exported.
set -euo pipefail
out=${1:?usage: build.sh OUTDIR}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cc=${CC:-cc}
mkdir -p "$out"
flags=(-O2 -g -fPIC -shared -fvisibility=hidden -Wall -Wextra -std=gnu11 -pthread)
for lib in pmi pmi2; do
	"$cc" "${flags[@]}" -Wl,-soname,lib$lib.so.0 -o "$out/lib$lib.so.0.0.0.tmp" \
		"$src/$lib.c" "$src/wire.c"
	mv -f "$out/lib$lib.so.0.0.0.tmp" "$out/lib$lib.so.0.0.0"
	ln -sfn "lib$lib.so.0.0.0" "$out/lib$lib.so.0"
	ln -sfn "lib$lib.so.0" "$out/lib$lib.so"
done
