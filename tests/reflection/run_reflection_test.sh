#!/usr/bin/env bash
# Runs reflection_test.js with its npm packages installed into WORK_DIR (per build directory,
# so that builds testing at the same time do not share node_modules).
# usage: run_reflection_test.sh WORK_DIR CHANNELD FAKE_LINE FIXTURE_JSON
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$1
shift
mkdir -p "$work"
cp "$here/package.json" "$here/package-lock.json" "$work/"
if [ ! -d "$work/node_modules/grpc-js-reflection-client" ] ||
   ! cmp -s "$here/package-lock.json" "$work/node_modules/.package-lock.json.installed"; then
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$here/package-lock.json" "$work/node_modules/.package-lock.json.installed"
fi
NODE_PATH="$work/node_modules" exec node "$here/reflection_test.js" "$@"
