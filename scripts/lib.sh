# Shared by run.sh and test.sh: find or install what building Herald needs.
# Only package registries are used (crates.io, npm, Debian apt).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/herald-target}"
TOOLS_DIR="${HERALD_TOOLS_DIR:-$HOME/.cache/herald-tools}"
WASM_BINDGEN_VERSION="0.2.130"   # must equal the wasm-bindgen crate pinned in Cargo.toml
CARGO_LEPTOS_VERSION="0.3.10"
BINARYEN_VERSION="132"           # Debian's binaryen (108) breaks hydration: never use it

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# apt-get as root, or through sudo; fails with a message naming the packages.
apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "need root or sudo to install: $*"
    sudo="sudo"
  fi
  command -v apt-get >/dev/null || die "not a Debian system; install these yourself: $*"
  say "installing $* (apt)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

ensure_rust() {
  command -v cargo >/dev/null || die "Rust is required: install it with rustup (https://rustup.rs)"
  if command -v rustup >/dev/null; then
    rustup target list --installed | grep -qx wasm32-unknown-unknown \
      || { say "adding the wasm32 target"; rustup target add wasm32-unknown-unknown; }
  fi
  command -v cc >/dev/null || apt_install build-essential
  command -v pkg-config >/dev/null || apt_install pkg-config
}

ensure_node() {
  command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
}

ensure_build_tools() {
  ensure_rust
  ensure_node
  export PATH="$HOME/.cargo/bin:$TOOLS_DIR/node_modules/.bin:$PATH"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
    # Without --locked: its lockfile names a yanked webpki-roots.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
  if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 20 minutes on 2 cores, once)"
    cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION" --features no_downloads --force \
      || cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --features no_downloads --force
  fi
  if [ "$(wasm-opt --version 2>/dev/null | awk '{print $3}')" != "$BINARYEN_VERSION" ]; then
    say "installing wasm-opt (binaryen@$BINARYEN_VERSION from npm)"
    mkdir -p "$TOOLS_DIR"
    (cd "$TOOLS_DIR" && npm install --silent --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >/dev/null)
  fi
  local found
  found="$(wasm-opt --version 2>/dev/null | awk '{print $3}')"
  [ "$found" = "$BINARYEN_VERSION" ] || die "wasm-opt on PATH is version '$found', need $BINARYEN_VERSION ($(command -v wasm-opt))"
}

# Builds the server and the WASM bundle (release) into $CARGO_TARGET_DIR and target/site.
build_site() {
  say "building Herald (cargo leptos build --release --precompress --split)"
  # --precompress writes .br and .gz beside each file of the site, which the
  # server sends to browsers that accept them. --split cuts the pages of
  # app/src/ui/lazy_pages.rs out of the main WASM into files fetched when
  # shown; the app cannot load them from a build without it.
  (cd "$ROOT" && cargo leptos build --release --precompress --split)
}
