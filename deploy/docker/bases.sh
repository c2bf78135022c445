#!/usr/bin/env bash
# deploy/docker/bases.sh [--rebuild] [NAME ...]
# deploy/docker/bases.sh --print
#
# Builds, without any image registry, the local stand-ins of every image the stack uses: from
# Debian packages (a debootstrap root filesystem, then apt) and Apache's artifacts on Maven
# Central only. NAME is one of debian python uv postgres kafka nginx prometheus (default: all, in that
# order; a NAME needs the images before it). Each base's Dockerfile is deploy/docker/<NAME>/.
#
#   ctip-local/debian:bookworm        debootstrap --variant=minbase bookworm, docker import, apt set up
#   ctip-local/python:3.11-bookworm   Debian's CPython 3.11 at /usr/local/bin/python3.11
#   ctip-local/uv:<version>           /uv from PyPI's uv wheel (the version deploy/Dockerfile names)
#   ctip-local/postgres:15-bookworm   Debian's PostgreSQL 15, the official image's entrypoint contract
#   ctip-local/kafka:<version>        Kafka (deploy/local/kafka/pom.xml's version), KRaft, OpenJDK 17
#   ctip-local/nginx:bookworm         Debian's nginx, unprivileged on 8080
#   ctip-local/prometheus:bookworm    Debian's Prometheus, for compose's optional observability profile
#
# The debootstrap (needs root and the debootstrap package) runs only when the imported root
# filesystem image is missing; --rebuild makes everything again (new debootstrap, no build
# cache, so the security updates are current). On stdout, the variables that select these
# images (CTIP_PYTHON_IMAGE=..., ...): `deploy/docker/bases.sh >deploy/bases.env`; --print
# prints them and builds nothing.
#
# Environment (for a site with mirrors instead of the internet):
#   DOCKER                      the docker client (default: the first of `docker` and
#                               /usr/bin/docker that builds with BuildKit: a client with the
#                               buildx plugin, or one older than 23.0, whose BuildKit is built in)
#   CTIP_BASE_PREFIX            repository prefix of the tags (default: ctip-local)
#   CTIP_BASES_ROOTFS           where the debootstrap root filesystem is kept
#                               (default: /var/tmp/ctip-bases/rootfs)
#   CTIP_DEBIAN_MIRROR          Debian mirror (default: http://deb.debian.org/debian)
#   CTIP_DEBIAN_SECURITY_MIRROR (default: http://deb.debian.org/debian-security)
#   CTIP_PYPI_SIMPLE_URL        PEP 691 simple index holding uv (default: https://pypi.org/simple)
#   CTIP_MAVEN_REPOSITORY       Maven Central or a mirror (default: https://repo.maven.apache.org/maven2)
#   CTIP_CA_CERTIFICATES        a PEM file of CAs to trust besides Debian's: a TLS-inspecting
#                               proxy's, an internal mirror's (the host's whole bundle will do:
#                               /etc/ssl/certs/ca-certificates.crt). The images that install
#                               ca-certificates (python, so the ctip image; Java's in kafka) trust them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DOCKER="${DOCKER:-}"
PREFIX="${CTIP_BASE_PREFIX:-ctip-local}"
ROOTFS="${CTIP_BASES_ROOTFS:-/var/tmp/ctip-bases/rootfs}"
DEBIAN_MIRROR="${CTIP_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY_MIRROR="${CTIP_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
PYPI_SIMPLE_URL="${CTIP_PYPI_SIMPLE_URL:-https://pypi.org/simple}"
MAVEN_REPOSITORY="${CTIP_MAVEN_REPOSITORY:-https://repo.maven.apache.org/maven2}"
CA_CERTIFICATES="${CTIP_CA_CERTIFICATES:-}"
export DOCKER_BUILDKIT=1

log() { echo "[bases] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The versions come from the files that pin them, so that nothing here goes stale.
UV_VERSION="$(sed -n 's/^ARG UV_IMAGE=.*:\([0-9][0-9.]*\)$/\1/p' "$ROOT/deploy/Dockerfile")"
KAFKA_VERSION="$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$ROOT/deploy/local/kafka/pom.xml")"
PG_MAJOR=15
[ -n "$UV_VERSION" ] || die "no uv version in deploy/Dockerfile's ARG UV_IMAGE"
[ -n "$KAFKA_VERSION" ] || die "no <kafka.version> in deploy/local/kafka/pom.xml"

ROOTFS_IMAGE="$PREFIX/debian-rootfs:bookworm"
DEBIAN_IMAGE="$PREFIX/debian:bookworm"
PYTHON_IMAGE="$PREFIX/python:3.11-bookworm"
UV_IMAGE="$PREFIX/uv:$UV_VERSION"
POSTGRES_IMAGE="$PREFIX/postgres:$PG_MAJOR-bookworm"
KAFKA_IMAGE="$PREFIX/kafka:$KAFKA_VERSION"
NGINX_IMAGE="$PREFIX/nginx:bookworm"
PROMETHEUS_IMAGE="$PREFIX/prometheus:bookworm"
ALL=(debian python uv postgres kafka nginx prometheus)

# What deploy/Dockerfile (PYTHON_IMAGE, UV_IMAGE) and compose take.
print_variables() {
  printf '%s\n' \
    "CTIP_PYTHON_IMAGE=$PYTHON_IMAGE" \
    "CTIP_UV_IMAGE=$UV_IMAGE" \
    "CTIP_POSTGRES_IMAGE=$POSTGRES_IMAGE" \
    "CTIP_KAFKA_IMAGE=$KAFKA_IMAGE" \
    "CTIP_NGINX_IMAGE=$NGINX_IMAGE" \
    "CTIP_PROMETHEUS_IMAGE=$PROMETHEUS_IMAGE"
}

rebuild=0
names=()
for arg in "$@"; do
  case "$arg" in
    --rebuild) rebuild=1 ;;
    --print) print_variables; exit 0 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    debian | python | uv | postgres | kafka | nginx | prometheus) names+=("$arg") ;;
    *) die "unknown argument $arg (see --help)" ;;
  esac
done
[ ${#names[@]} -gt 0 ] || names=("${ALL[@]}")

# Can CLIENT build with BuildKit? From 23.0 the client needs the buildx plugin for it (Debian's
# docker.io 20.10 has BuildKit built in; a newer client without buildx refuses DOCKER_BUILDKIT=1).
builds_with_buildkit() {
  local version
  "$1" buildx version >/dev/null 2>&1 && return 0
  version="$("$1" version --format '{{.Client.Version}}' 2>/dev/null || true)"
  [[ "${version%%.*}" =~ ^[0-9]+$ ]] && (( ${version%%.*} < 23 ))
}

if [ -z "$DOCKER" ]; then
  for candidate in docker /usr/bin/docker; do
    if command -v "$candidate" >/dev/null 2>&1 && builds_with_buildkit "$candidate"; then
      DOCKER="$candidate"
      break
    fi
  done
  [ -n "$DOCKER" ] || die "no docker client that builds with BuildKit (install buildx, or Debian's docker.io)"
elif ! builds_with_buildkit "$DOCKER"; then
  die "$DOCKER cannot build with BuildKit: install its buildx plugin, or use Debian's /usr/bin/docker"
fi
"$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1 \
  || die "no Docker engine answers ('$DOCKER version' fails)"
log "docker client $DOCKER, engine $("$DOCKER" version --format '{{.Server.Version}}')"

exists() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

# build NAME TAG [--build-arg ...]: deploy/docker/NAME/Dockerfile, the repository as context.
build() {
  local name="$1" tag="$2" started=$SECONDS
  shift 2
  local cache=()
  [ "$rebuild" = 1 ] && cache=(--no-cache)
  log "building $tag (deploy/docker/$name/Dockerfile)"
  "$DOCKER" build "${cache[@]}" -f "$ROOT/deploy/docker/$name/Dockerfile" -t "$tag" "$@" "$ROOT" >&2
  log "built $tag in $((SECONDS - started))s"
}

# A complete minbase root filesystem: made once (atomically), then reused.
ensure_rootfs() {
  if [ "$rebuild" = 0 ] && [ -x "$ROOTFS/usr/bin/apt-get" ] && [ ! -e "$ROOTFS/debootstrap" ]; then
    log "reusing the root filesystem in $ROOTFS"
    return 0
  fi
  command -v debootstrap >/dev/null 2>&1 \
    || die "debootstrap is missing (apt-get -o DPkg::Lock::Timeout=600 install -y debootstrap)"
  [ "$(id -u)" = 0 ] || die "debootstrap needs root"
  local started=$SECONDS tmp="$ROOTFS.tmp.$$"
  log "debootstrap --variant=minbase bookworm $tmp $DEBIAN_MIRROR"
  rm -rf "$tmp"
  mkdir -p "$(dirname "$ROOTFS")"
  debootstrap --variant=minbase bookworm "$tmp" "$DEBIAN_MIRROR" >&2
  rm -rf "$ROOTFS"
  mv "$tmp" "$ROOTFS"
  log "root filesystem made in $((SECONDS - started))s"
}

import_rootfs() {
  if [ "$rebuild" = 0 ] && exists "$ROOTFS_IMAGE"; then
    log "$ROOTFS_IMAGE exists (--rebuild to make it again)"
    return 0
  fi
  ensure_rootfs
  local started=$SECONDS
  log "docker import $ROOTFS -> $ROOTFS_IMAGE"
  # Without the downloaded packages, package lists, device nodes and runtime state.
  tar --numeric-owner --xattrs -C "$ROOTFS" -c \
      --exclude=./var/cache/apt/archives/*.deb --exclude=./var/cache/apt/*.bin \
      --exclude=./var/lib/apt/lists/* --exclude=./var/log/* \
      --exclude=./dev/* --exclude=./proc/* --exclude=./sys/* --exclude=./run/* --exclude=./tmp/* . \
    | "$DOCKER" import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' - "$ROOTFS_IMAGE" >&2
  log "imported in $((SECONDS - started))s"
}

total=$SECONDS
for name in "${names[@]}"; do
  case "$name" in
    debian)
      import_rootfs
      site_ca=()
      if [ -n "$CA_CERTIFICATES" ]; then
        [ -s "$CA_CERTIFICATES" ] || die "CTIP_CA_CERTIFICATES=$CA_CERTIFICATES: no such file"
        site_ca=(--secret "id=ca-certificates,src=$CA_CERTIFICATES"
          --build-arg "CA_CERTIFICATES_SHA256=$(sha256sum <"$CA_CERTIFICATES" | cut -d' ' -f1)")
      fi
      build debian "$DEBIAN_IMAGE" "${site_ca[@]}" --build-arg "ROOTFS_IMAGE=$ROOTFS_IMAGE" \
        --build-arg "DEBIAN_MIRROR=$DEBIAN_MIRROR" \
        --build-arg "DEBIAN_SECURITY_MIRROR=$DEBIAN_SECURITY_MIRROR"
      ;;
    python) build python "$PYTHON_IMAGE" --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" ;;
    uv)
      build uv "$UV_IMAGE" --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" \
        --build-arg "UV_VERSION=$UV_VERSION" --build-arg "PYPI_SIMPLE_URL=$PYPI_SIMPLE_URL"
      ;;
    postgres)
      build postgres "$POSTGRES_IMAGE" --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" \
        --build-arg "PG_MAJOR=$PG_MAJOR"
      ;;
    kafka)
      build kafka "$KAFKA_IMAGE" --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" \
        --build-arg "KAFKA_VERSION=$KAFKA_VERSION" --build-arg "MAVEN_REPOSITORY=$MAVEN_REPOSITORY"
      ;;
    nginx) build nginx "$NGINX_IMAGE" --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" ;;
    prometheus) build prometheus "$PROMETHEUS_IMAGE" --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" ;;
  esac
done
log "done in $((SECONDS - total))s"
print_variables
