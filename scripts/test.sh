#!/usr/bin/env bash
# Runs every test: unit, integration on SQLite and PostgreSQL, and Playwright
# in Debian's Chromium. Installs what a fresh Debian machine lacks.
# Usage: scripts/test.sh            (everything)
#        SKIP_E2E=1 scripts/test.sh (cargo tests only)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export HERALD_TEST_POSTGRES_URL="${HERALD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
LOG_DIR="$CARGO_TARGET_DIR/test-logs"
mkdir -p "$LOG_DIR"

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# PostgreSQL must answer at HERALD_TEST_POSTGRES_URL: start a local cluster
# if one is installed, install one on Debian if none is, else say what is missing.
ensure_postgres() {
  local hostport host port
  hostport="$(printf '%s' "$HERALD_TEST_POSTGRES_URL" | sed -E 's#^[a-z]+://([^@/]*@)?([^/?]+).*#\2#')"
  host="${hostport%:*}"; port="${hostport##*:}"
  [ "$port" = "$hostport" ] && port=5432
  port_open "$host" "$port" && return 0
  if [ "$host" != 127.0.0.1 ] && [ "$host" != localhost ]; then
    die "PostgreSQL is not reachable at $hostport (HERALD_TEST_POSTGRES_URL); start it or point the variable at one"
  fi
  if ! command -v pg_ctlcluster >/dev/null; then
    apt_install postgresql
  fi
  local version
  version="$(ls /etc/postgresql | sort -V | tail -n1)"
  say "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
    || pg_ctlcluster "$version" main start
  for _ in $(seq 1 30); do port_open "$host" "$port" && break; sleep 1; done
  port_open "$host" "$port" || die "PostgreSQL did not start on $hostport"
  # A cluster we just installed asks for a password on TCP: give the postgres
  # role a test password and use it.
  if ! PGCONNECT_TIMEOUT=3 psql "$HERALD_TEST_POSTGRES_URL" -c 'select 1' >/dev/null 2>&1; then
    su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
    export HERALD_TEST_POSTGRES_URL="postgres://postgres:postgres@$host:$port/postgres"
  fi
}

# The seeds' own verification code runs in their languages against real
# deliveries (tests/it/seed_verification.rs): Node, Python, PHP and Java.
ensure_seed_verifiers() {
  command -v node >/dev/null || apt_install nodejs
  command -v python3 >/dev/null || apt_install python3
  command -v php >/dev/null || apt_install php-cli
  # `java File.java` compiles the seed's source first: a JDK, not only a JRE.
  command -v javac >/dev/null || apt_install default-jdk-headless
}

ensure_chromium() {
  export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
  [ -x "$CHROMIUM_PATH" ] || apt_install chromium
  [ -x "$CHROMIUM_PATH" ] || die "Chromium not found at $CHROMIUM_PATH (set CHROMIUM_PATH)"
}

passed=0
failed=0
count_cargo() {
  local p f
  p=$( (grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$1" || true) | awk '{s+=$4} END {print s+0}')
  f=$( (grep -Eo '[0-9]+ failed' "$1" || true) | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
}

ensure_build_tools
ensure_postgres
ensure_seed_verifiers

say "cargo tests: unit, store suite and HTTP tests on SQLite and PostgreSQL"
cd "$ROOT"
set +e
cargo test --release --locked --workspace 2>&1 | tee "$LOG_DIR/cargo-test.log"
status=${PIPESTATUS[0]}
set -e
count_cargo "$LOG_DIR/cargo-test.log"
[ "$status" = 0 ] || { echo "cargo tests: $passed passed, $failed failed"; exit "$status"; }

# The benches are run by hand (BENCHMARKS.md), so nothing else would notice
# one that no longer compiles. Right after the tests, with the same features
# and profile, this only builds the bench binaries.
say "benches compile (cargo build --benches; they are run by hand)"
cargo build --release --locked --workspace --benches

if [ "${SKIP_E2E:-0}" != 1 ]; then
  build_site
  ensure_chromium
  say "Playwright end-to-end tests in Chromium"
  cd "$ROOT/end2end"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund
  set +e
  HERALD_BIN="$CARGO_TARGET_DIR/release/herald" npx playwright test 2>&1 | tee "$LOG_DIR/playwright.log"
  status=${PIPESTATUS[0]}
  set -e
  p=$( (grep -Eo '^ +[0-9]+ passed' "$LOG_DIR/playwright.log" || true) | awk '{s+=$1} END {print s+0}')
  f=$( (grep -Eo '^ +[0-9]+ failed' "$LOG_DIR/playwright.log" || true) | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
  [ "$status" = 0 ] || { echo "all suites: $passed passed, $failed failed"; exit "$status"; }
fi

echo "all suites: $passed passed, $failed failed"
