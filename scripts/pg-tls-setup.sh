#!/usr/bin/env bash
# Sets up TLS on the local PostgreSQL for the store's transport tests
# (stores/postgres/tests/tls.rs, clause 8.1). Idempotent; run as root after the server is up.
#
# - a test CA, and a server certificate it signs for the DNS name `localhost` only (not for
#   the address 127.0.0.1, so connecting to 127.0.0.1 with verify-full is the wrong-host-name
#   case, on any machine, without /etc/hosts entries);
# - a second, unrelated CA (the wrong-CA case);
# - the server switched to that certificate with ALTER SYSTEM + pg_reload_conf() (the
#   cluster keeps running; existing plaintext and `prefer` clients are unaffected);
# - checked at the end with psql in verify-full.
#
# Writes the CAs to $DIR/ca.pem and $DIR/wrong-ca.pem (DIR defaults to /var/lib/crm-pg-tls)
# and prints the variables the tests read:
#   export CRM_PG_TEST_CA=$DIR/ca.pem CRM_PG_TEST_WRONG_CA=$DIR/wrong-ca.pem
# Env: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), PGDATABASE (test).
set -euo pipefail

DIR=${CRM_PG_TLS_DIR:-/var/lib/crm-pg-tls}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres} PGDATABASE=${PGDATABASE:-test}

command -v openssl >/dev/null || { apt-get update -qq && apt-get install -y -qq openssl; }
command -v psql >/dev/null || { echo "pg-tls-setup: psql not found" >&2; exit 1; }

mkdir -p "$DIR"
chmod 755 "$DIR"
cd "$DIR"

# A CA: key + self-signed certificate with CA:true, valid ten years.
make_ca() { # name subject
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$1-key.pem" -out "$1.pem" -days 3650 -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:true" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    chmod 600 "$1-key.pem"
    chmod 644 "$1.pem"
}

# Reuse what is there while it is valid for another day and chains to the CA.
fresh() {
    [ -s ca.pem ] && [ -s wrong-ca.pem ] && [ -s server.pem ] && [ -s server-key.pem ] &&
        openssl x509 -in server.pem -noout -checkend 86400 >/dev/null &&
        openssl verify -CAfile ca.pem server.pem >/dev/null 2>&1
}

if ! fresh; then
    rm -f ./*.pem ./*.csr ./*.srl ./*.ext
    make_ca ca "crm-privacy test CA"
    make_ca wrong-ca "crm-privacy unrelated CA"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout server-key.pem -out server.csr -subj "/CN=localhost" 2>/dev/null
    printf '%s\n' "subjectAltName=DNS:localhost" "basicConstraints=critical,CA:false" \
        "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
        -days 825 -extfile server.ext -out server.pem 2>/dev/null
    rm -f server.csr server.ext ca.srl
    # The CA keys are not needed again (a rerun makes new CAs): keep nothing that signs.
    rm -f ca-key.pem wrong-ca-key.pem
fi

# The server reads its key as the postgres user and refuses a key readable by others.
chown postgres:postgres server.pem server-key.pem
chmod 600 server-key.pem
chmod 644 server.pem ca.pem wrong-ca.pem

psql -v ON_ERROR_STOP=1 -qAt <<SQL >/dev/null
ALTER SYSTEM SET ssl = on;
ALTER SYSTEM SET ssl_cert_file = '$DIR/server.pem';
ALTER SYSTEM SET ssl_key_file = '$DIR/server-key.pem';
SELECT pg_reload_conf();
SQL

# A reload is applied asynchronously: wait until a verify-full connection succeeds.
for _ in $(seq 1 50); do
    if psql "host=localhost port=$PGPORT user=$PGUSER dbname=$PGDATABASE sslmode=verify-full sslrootcert=$DIR/ca.pem" \
        -qAtc "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()" 2>/dev/null | grep -qx t; then
        echo "export CRM_PG_TEST_CA=$DIR/ca.pem CRM_PG_TEST_WRONG_CA=$DIR/wrong-ca.pem"
        exit 0
    fi
    sleep 0.2
done
echo "pg-tls-setup: the server does not serve the test certificate (see the PostgreSQL log)" >&2
exit 1
