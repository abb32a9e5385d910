#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh, then bring the schema up to date.
#
# Usage: scripts/restore.sh BACKUP_FOLDER [--replace]
#
# Restores into the database of HELPDESK_DATABASE_URL, which must exist and
# be empty (for PostgreSQL: createdb -O helpdesk helpdesk). --replace drops
# the tables of a database that is not empty first.
#
# Before running it:
#   1. stop the services: systemctl stop helpdesk-web helpdesk-worker helpdesk-beat
#   2. set HELPDESK_ENCRYPTION_KEY and HELPDESK_SECRET_KEY to the values in
#      BACKUP_FOLDER/keys.env; the restore refuses to run with other keys,
#      because data restored under them cannot be read.
#
# Environment: HELPDESK_BIN as for scripts/backup.sh.
set -euo pipefail

fail() { printf 'restore: %s\n' "$*" >&2; exit 1; }

running_services() {
  # Without systemd (containers, test machines) there is nothing to ask.
  command -v systemctl >/dev/null 2>&1 || return 0
  local unit
  for unit in helpdesk-web helpdesk-worker helpdesk-beat; do
    if systemctl is-active --quiet "$unit" 2>/dev/null; then
      printf '%s ' "$unit"
    fi
  done
}

[ $# -ge 1 ] || fail "usage: scripts/restore.sh BACKUP_FOLDER [--replace]"
backup=$1
shift
[ -d "$backup" ] || fail "$backup is not a folder: give the path of a helpdesk-<time> backup folder."

running=$(running_services)
[ -z "$running" ] || fail "stop these services first, so that nothing writes during the restore: systemctl stop $running"

helpdesk=${HELPDESK_BIN:-$(dirname "${BASH_SOURCE[0]}")/../.venv/bin/helpdesk}
[ -x "$helpdesk" ] || helpdesk=$(command -v helpdesk) || fail "the helpdesk command was not found: set HELPDESK_BIN to its path."
"$helpdesk" backup restore "$backup" "$@"
"$helpdesk" db upgrade
printf 'restore: done. Run "%s check", then start the services.\n' "$helpdesk"
