#!/usr/bin/env bash
# Install what the helpdesk, its demo and its tests need on Debian 12 (bookworm):
# the system packages, a virtual environment in .venv with the project installed
# editable, and compiled translations.
#
# Safe to run again: it installs only what is missing, runs `apt-get update` at
# most once, and skips pip when pyproject.toml has not changed since the last
# successful install. System packages need root; everything else does not.
#
# Environment: PYTHON selects the interpreter for the virtual environment
# (default python3, which must be Python 3.11 or newer).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
INSTALL_STAMP=$VENV/.helpdesk-install-stamp

log() { printf 'setup: %s\n' "$*"; }
fail() { printf 'setup: %s\n' "$*" >&2; exit 1; }

# Each entry is "debian-package:check", where the check is a shell test that
# succeeds when the package (or an equivalent) is already present.
REQUIREMENTS=(
  "dovecot-imapd:test -x /usr/lib/dovecot/imap && command -v dovecot"
  "redis-server:command -v redis-server"
  "postgresql:compgen -G '/usr/lib/postgresql/*/bin/postgres'"
  "chromium:command -v chromium"
)

missing_packages() {
  local entry package check
  for entry in "${REQUIREMENTS[@]}"; do
    package=${entry%%:*}
    check=${entry#*:}
    if ! eval "$check" >/dev/null 2>&1; then
      printf '%s\n' "$package"
    fi
  done

  # Debian ships venv and ensurepip apart from python3, while pyenv and other builds include them.
  if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    printf '%s\n' python3-venv
  fi
}

install_system_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  if [ "${#missing[@]}" -eq 0 ]; then
    return
  fi

  if [ "$(id -u)" -ne 0 ]; then
    fail "missing system packages: ${missing[*]}. Run this script as root or install them with apt-get."
  fi
  command -v apt-get >/dev/null || fail "missing system packages: ${missing[*]}, and apt-get is not available to install them."

  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

check_python() {
  command -v "$PYTHON" >/dev/null || fail "$PYTHON not found: install Python 3.11 or set PYTHON to its path."
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || fail "$PYTHON is $("$PYTHON" --version 2>&1); the helpdesk needs Python 3.11 or newer (set PYTHON)."
}

create_virtualenv() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
}

install_project() {
  local stamp
  stamp=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ -x "$VENV/bin/helpdesk" ] && [ "$(cat "$INSTALL_STAMP" 2>/dev/null)" = "$stamp" ]; then
    return
  fi

  log "installing the project and its Python dependencies into $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test,production]'
  printf '%s\n' "$stamp" > "$INSTALL_STAMP"
}

compile_translations() {
  local po mo
  while IFS= read -r -d '' po; do
    mo=${po%.po}.mo
    if [ ! -f "$mo" ] || [ "$po" -nt "$mo" ]; then
      "$VENV/bin/pybabel" --quiet compile -i "$po" -o "$mo"
    fi
  done < <(find helpdesk kb admin workers -path '*/LC_MESSAGES/*.po' -print0 2>/dev/null)
}

install_system_packages
check_python
create_virtualenv
install_project
compile_translations
log "ready: $VENV/bin/helpdesk"
