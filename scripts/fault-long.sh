#!/bin/sh
# The long mode of the store fault suites (issue 14): 10x the byte flips on SQLite, 40
# concurrent schema creations and a 30 s backend-termination run on PostgreSQL.
# PostgreSQL at $CRM_PG_URL (default postgres://postgres@127.0.0.1:5432/test); set CI=true to
# fail instead of skipping when it is unreachable.
set -eu
cd "$(dirname "$0")/.."
export CRM_FAULT_LONG=1
cargo test --release -p crm-privacy-sqlite --features danger --test faults -- --nocapture
cargo test --release -p crm-privacy-postgres --test faults -- --nocapture
