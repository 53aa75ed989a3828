#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make bench: every program's side-by-side benchmark, in the test world (loopback registry, private state).
# Each prints its table and ratios; copy them into bench/RESULTS.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rc=0
for b in pull unpack run net ps; do
        echo "=== bench/$b ==="
        "$here/$b/run.sh" || { echo "bench/$b failed" >&2; rc=1; }
done
exit $rc
