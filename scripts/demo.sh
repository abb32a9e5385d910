#!/usr/bin/env bash
# Set up the machine (scripts/setup.sh), then start the demo: the web interface
# on http://127.0.0.1:8000/admin/, a worker with its scheduler, and a mailbox
# with example questions. Stop it with Ctrl-C.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
exec .venv/bin/helpdesk demo "$@"
