#!/usr/bin/env bash
# Runs every test file on node's test runner (tsx for TypeScript). Node 20's --test takes no
# globs, so bash expands them. Extra arguments are passed on (e.g. a single file).
set -euo pipefail
shopt -s globstar nullglob
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then files=("$@"); else files=(test/**/*.test.ts); fi
exec node --import tsx --test --test-concurrency=2 --test-timeout=120000 "${files[@]}"
