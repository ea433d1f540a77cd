#!/usr/bin/env bash
# Build the PDQ matching kernel (src/haven/banks/_pdqkernel.so) with the system C compiler.
# Run by `make install`; without a compiler Haven still works (the NumPy path gives the same answers).
set -euo pipefail
cd "$(dirname "$0")/.."
src=src/haven/banks/_pdqkernel.c
out=src/haven/banks/_pdqkernel.so
cc=${CC:-cc}
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "no C compiler ($cc): the PDQ index uses its NumPy path (slower, same answers)" >&2
  exit 0
fi
flags="-O3 -fPIC -shared -std=c99 -Wall"
case "$(uname -m)" in x86_64) flags="$flags -mpopcnt" ;; esac
# shellcheck disable=SC2086
"$cc" $flags -o "$out.tmp" "$src"
mv "$out.tmp" "$out"
echo "built $out"
