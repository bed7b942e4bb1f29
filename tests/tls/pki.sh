#!/usr/bin/env bash
# The test PKI of a TLS engine, with openssl only (as an operator would make one).
#
#   pki.sh ca DIR                 a CA: DIR/ca.pem, DIR/ca-key.pem
#   pki.sh server CADIR OUT IP    OUT/server-cert.pem, OUT/server-key.pem for IP (SAN), signed by CADIR
#   pki.sh client CADIR OUT [expired]
#                                 OUT/cert.pem, OUT/key.pem (clientAuth) signed by CADIR, and
#                                 OUT/ca.pem (CADIR's); `expired`: valid 2020-01-01 to 2020-01-02
#
# Keys are EC P-256; nothing here is kept secret beyond the files' 0600 modes.
set -euo pipefail
cmd=$1
key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; chmod 600 "$1"; }
case "$cmd" in
  ca)
    d=$2; mkdir -p "$d"
    key "$d/ca-key.pem"
    openssl req -new -x509 -key "$d/ca-key.pem" -out "$d/ca.pem" -days 3650 \
      -subj "/CN=kollars test CA $$" -addext "basicConstraints=critical,CA:true" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    ;;
  server|client)
    ca=$2 out=$3; mkdir -p "$out"
    work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
    if [ "$cmd" = server ]; then
      k=$out/server-key.pem c=$out/server-cert.pem
      ext="subjectAltName=IP:$4
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature"
      cn=kollars-engine
    else
      k=$out/key.pem c=$out/cert.pem
      ext="extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature"
      cn=kollars-operator
      cp "$ca/ca.pem" "$out/ca.pem"
    fi
    key "$k"
    openssl req -new -key "$k" -out "$work/req.csr" -subj "/CN=$cn" 2>/dev/null
    printf '%s\nbasicConstraints=CA:false\n' "$ext" > "$work/ext"
    if [ "${4:-}" = expired ]; then
      # openssl 3.0's x509 has no dates in the past: `ca` does, with a throwaway database
      mkdir -p "$work/db"; : > "$work/db/index"; echo 01 > "$work/db/serial"
      cat > "$work/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
database = $work/db/index
serial = $work/db/serial
new_certs_dir = $work/db
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
CNF
      openssl ca -batch -config "$work/ca.cnf" -cert "$ca/ca.pem" -keyfile "$ca/ca-key.pem" \
        -in "$work/req.csr" -out "$c" -extfile "$work/ext" -notext \
        -startdate 20200101000000Z -enddate 20200102000000Z 2>/dev/null
    else
      openssl x509 -req -in "$work/req.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca-key.pem" \
        -CAcreateserial -CAserial "$work/serial" -out "$c" -days 825 -extfile "$work/ext" 2>/dev/null
    fi
    ;;
  *) echo "usage: $0 ca DIR | server CADIR OUT IP | client CADIR OUT [expired]" >&2; exit 2 ;;
esac
