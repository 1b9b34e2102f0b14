#!/usr/bin/env bash
# Builds Herald and runs it on SQLite (./herald.db), installing what it needs.
# Usage: scripts/run.sh [extra `herald serve` flags]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_build_tools
build_site
cd "$ROOT"
say "starting Herald; open the URL below (Ctrl-C stops it)"
exec "$CARGO_TARGET_DIR/release/herald" serve "$@"
