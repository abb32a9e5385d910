#!/usr/bin/env bash
# Back up the helpdesk database and keys, then delete old backups.
#
# Usage: scripts/backup.sh [DESTINATION]
#
# Writes a folder helpdesk-<UTC time> into DESTINATION (default: backups/
# in HELPDESK_DATA_DIR) with the database (pg_dump custom format for
# PostgreSQL, a copy through SQLite's backup API for SQLite), keys.env with
# HELPDESK_ENCRYPTION_KEY and HELPDESK_SECRET_KEY, and a checksum manifest.
# Without the encryption key the stored sender addresses and originals
# cannot be read, so keep a copy of keys.env apart from the backups.
#
# Settings come from the environment and from .env in the working folder,
# as for the services; under systemd, docs/systemd/helpdesk-backup.service
# loads /etc/helpdesk/helpdesk.env.
#
# Environment:
#   KEEP_DAYS     delete backup folders in DESTINATION older than this many
#                 days (default 14; 0 keeps all). Backups hold personal data,
#                 so keep them no longer than the retention periods allow.
#   HELPDESK_BIN  the helpdesk command (default: .venv/bin/helpdesk beside
#                 this script, else helpdesk on PATH).
set -euo pipefail

umask 077

fail() { printf 'backup: %s\n' "$*" >&2; exit 1; }

KEEP_DAYS=${KEEP_DAYS:-14}
[[ "$KEEP_DAYS" =~ ^[0-9]+$ ]] || fail "KEEP_DAYS=$KEEP_DAYS is not a whole number of days."

helpdesk=${HELPDESK_BIN:-$(dirname "${BASH_SOURCE[0]}")/../.venv/bin/helpdesk}
[ -x "$helpdesk" ] || helpdesk=$(command -v helpdesk) || fail "the helpdesk command was not found: set HELPDESK_BIN to its path."
if [ $# -gt 0 ]; then
  folder=$("$helpdesk" backup create --to "$1")
else
  folder=$("$helpdesk" backup create)
fi
printf 'backup: wrote %s\n' "$folder"

if [ "$KEEP_DAYS" -gt 0 ]; then
  # Only complete backup folders of this tool, one level deep, are deleted.
  find "$(dirname "$folder")" -mindepth 1 -maxdepth 1 -type d -name 'helpdesk-*' \
    -mtime "+$KEEP_DAYS" -print -exec rm -rf {} + | sed 's/^/backup: deleted /'
fi
