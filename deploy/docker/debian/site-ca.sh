#!/bin/sh
# site-ca.sh BUNDLE OUTDIR: the certificates of the PEM file BUNDLE that Debian's ca-certificates
# does not already hold, one per file (OUTDIR/ctip-site-N.crt), for
# /usr/local/share/ca-certificates. A site's TLS-inspecting proxy or internal mirror has such a
# CA; the host's whole bundle can be given, Debian's own roots are dropped.
set -eu
bundle="$1"
out="$2"
work="$(mktemp -d)"
mkdir -p "$out" "$work/known" "$work/given"

split() {
  awk -v dir="$2" '
    /-----BEGIN CERTIFICATE-----/ { n++; file = sprintf("%s/%04d.pem", dir, n); keep = 1 }
    keep { print > file }
    /-----END CERTIFICATE-----/ { keep = 0; close(file) }
  ' "$1"
}
fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$1"; }

split /etc/ssl/certs/ca-certificates.crt "$work/known"
for cert in "$work"/known/*.pem; do fingerprint "$cert"; done | sort -u >"$work/known.txt"

split "$bundle" "$work/given"
n=0
for cert in "$work"/given/*.pem; do
  [ -e "$cert" ] || continue
  if ! grep -qxF "$(fingerprint "$cert")" "$work/known.txt"; then
    n=$((n + 1))
    cp "$cert" "$out/ctip-site-$n.crt"
    openssl x509 -noout -subject -in "$cert"
  fi
done
echo "site-ca: $n certificate(s) beyond Debian's"
rm -rf "$work"
