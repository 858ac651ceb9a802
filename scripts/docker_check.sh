#!/bin/bash
# Build the Dockerfile and check the image, with Debian's podman instead of a Docker daemon
# and with local base images instead of a registry (run as root, on Debian 12):
#   1. installs podman, runc, debootstrap (and curl, python3-pil) when missing;
#   2. makes the base images docker.io/library/debian:12 and debian:12-slim from a
#      `debootstrap --variant=minbase bookworm` root filesystem (`podman import`), once:
#      later runs reuse the tarballs and images kept under $TS_DOCKER_WORK;
#   3. builds `podman build --format docker -t tilesrv` in a clean clone of the
#      repository's committed HEAD (uncommitted changes are not in it), under nice -n 19;
#   4. runs the image with -p PORT:8080 and checks /health, that a cadastre tile is a PNG
#      that is not blank, that the server runs as uid 10001 and that the image's
#      HEALTHCHECK passes; stops and removes the container.
# Prints each check; exits non-zero on the first failure. Takes ~8 min on 2 cores the
# first time (~1 min the base images, ~6 min the build), ~2 min with the package layers
# cached. Not part of ctest or .ci/run.
#   scripts/docker_check.sh
#   TS_DOCKER_WORK=/var/tmp/tilesrv-docker TS_DOCKER_PORT=18080 scripts/docker_check.sh
#   scripts/docker_check.sh --rebase      # make the base images again (fresh debootstrap)
#   scripts/docker_check.sh --no-cache    # build every step again (the cold build time)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${TS_DOCKER_WORK:-/var/tmp/tilesrv-docker}
PORT=${TS_DOCKER_PORT:-18080}
CTX=${TS_DOCKER_CTX:-/tmp/dockerctx}
MIRROR=${TS_DOCKER_MIRROR:-http://deb.debian.org/debian}
IMAGE=tilesrv
NAME=tilesrv-check-$$
TILE=/tiles/cadastre/16/34001/21873.png
REBASE=0
NOCACHE=()
for a in "$@"; do
  case "$a" in
    --rebase) REBASE=1 ;;
    --no-cache) NOCACHE=(--no-cache) ;;
    *) echo "docker_check.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

say() { printf 'docker_check: %s\n' "$*"; }
fail() { printf 'docker_check: FAIL: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "run as root (apt-get, debootstrap, podman's storage)"

# --- 1. tools -----------------------------------------------------------------------------
need=()
for p in podman runc debootstrap fuse-overlayfs slirp4netns uidmap curl python3-pil; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  say "installing: ${need[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive nice -n 19 apt-get install -y -q "${need[@]}"
fi
say "$(podman --version)"

# podman's storage lives under $WORK, apart from the machine's /var/lib/containers: the
# overlay driver where the kernel has it, else vfs (slower, bigger, works everywhere)
DRIVER=${TS_DOCKER_DRIVER:-}
if [ -z "$DRIVER" ]; then
  if grep -qw overlay /proc/filesystems; then DRIVER=overlay; else DRIVER=vfs; fi
fi
mkdir -p "$WORK"
# podman's settings for these runs ($WORK/containers.conf, through CONTAINERS_CONF):
# - runc, not crun: crun refuses a cgroup v1/v2 hybrid ("cgroups in hybrid mode not
#   supported"), which some hosts (VMs, CI sandboxes) have;
# - explicit ulimits: podman's default as root raises RLIMIT_NOFILE to 1048576, which a
#   process without CAP_SYS_RESOURCE cannot ("setrlimit RLIMIT_NOFILE: Operation not
#   permitted"); nofile is this shell's hard limit, nproc a modest fixed one (the hard limit
#   of this shell was refused as well)
nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=1048576
cat >"$WORK/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=4096:4096"]
[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF="$WORK/containers.conf"
# the run-time state on tmpfs, one per storage
RUNROOT=/run/tilesrv-docker-$DRIVER
[ "$WORK" = /var/tmp/tilesrv-docker ] || RUNROOT=$RUNROOT-$(printf %s "$WORK" | cksum | cut -d' ' -f1)
pm() { podman --root "$WORK/storage-$DRIVER" --runroot "$RUNROOT" --storage-driver "$DRIVER" "$@"; }
say "storage: $WORK/storage-$DRIVER (driver $DRIVER); podman for it by hand:"
say "  CONTAINERS_CONF=$CONTAINERS_CONF podman --root $WORK/storage-$DRIVER --runroot $RUNROOT --storage-driver $DRIVER ..."

# --- 2. base images -----------------------------------------------------------------------
# what debootstrap leaves that an image does not want, and the apt set-up of Debian's own
# images (deb822 sources with updates and security, no caches, no translations, no service
# starts during installs)
finish_rootfs() {
  local r=${1:?}
  rm -f "$r/etc/apt/sources.list"
  mkdir -p "$r/etc/apt/sources.list.d"
  cat >"$r/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: ${MIRROR}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR}-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  printf '%s\n' '// no package caches kept in image layers' \
    'Dir::Cache::pkgcache "";' 'Dir::Cache::srcpkgcache "";' \
    >"$r/etc/apt/apt.conf.d/docker-clean"
  printf '%s\n' 'Acquire::Languages "none";' >"$r/etc/apt/apt.conf.d/docker-no-languages"
  printf '%s\n' 'Acquire::GzipIndexes "true";' >"$r/etc/apt/apt.conf.d/docker-gzip-indexes"
  printf '%s\n' 'Apt::AutoRemove::SuggestsImportant "false";' \
    >"$r/etc/apt/apt.conf.d/docker-autoremove-suggests"
  printf '%s\n' 'force-unsafe-io' >"$r/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  printf '%s\n' '#!/bin/sh' '# no service starts inside image builds' 'exit 101' \
    >"$r/usr/sbin/policy-rc.d"
  chmod 0755 "$r/usr/sbin/policy-rc.d"
  rm -rf "${r:?}"/var/cache/apt/archives/*.deb "${r:?}"/var/cache/apt/*.bin "${r:?}"/var/lib/apt/lists/*
  mkdir -p "$r/var/lib/apt/lists/partial"
  rm -rf "${r:?}"/dev/* "${r:?}"/proc/* "${r:?}"/sys/* "${r:?}"/tmp/* "${r:?}"/var/tmp/* "${r:?}"/run/*
  rm -f "${r:?}"/var/log/*.log "${r:?}"/var/log/apt/* "${r:?}"/var/cache/ldconfig/aux-cache
  : >"$r/etc/hostname"; : >"$r/etc/resolv.conf"; : >"$r/etc/machine-id"
}
# the -slim variant: no documentation, manuals or translations (copyright files stay), and
# dpkg told to leave them out of later installs as well
slimify_rootfs() {
  local r=${1:?}
  cat >"$r/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  rm -rf "${r:?}"/usr/share/groff/* "${r:?}"/usr/share/info/* "${r:?}"/usr/share/linda/* \
    "${r:?}"/usr/share/lintian/overrides/* "${r:?}"/usr/share/locale/* "${r:?}"/usr/share/man/*
  find "$r/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$r/usr/share/doc" -mindepth 1 -depth -type d -empty -delete
}
# debian:12, the build stage's base, also trusts the CA certificates this host added to its
# own trust (/usr/local/share/ca-certificates/*.crt): where HTTPS leaves through a proxy with
# its own CA, `npm ci` fails otherwise with SELF_SIGNED_CERT_IN_CHAIN (Debian's node uses
# the system store, which the build stage's ca-certificates makes from that folder). The
# packages stay checked against package-lock.json's hashes; debian:12-slim, the runtime
# stage's base, gets none of them, and no build-time mount leaves a trace in the image.
host_cas=(/usr/local/share/ca-certificates/*.crt)
[ -e "${host_cas[0]}" ] || host_cas=()
base_image() { # tag rootfs-dir tarball with-host-cas(0|1)
  local tag=$1 dir=$2 tar=$3 cas=$4 key imp
  if [ "$REBASE" = 1 ] || [ ! -s "$tar" ]; then
    say "packing $tar"
    tar --numeric-owner --xattrs --acls -C "$dir" -cf "$tar.part" .
    mv "$tar.part" "$tar"
  fi
  imp=$tar
  key=$(stat -c '%s %Y' "$tar")
  if [ "$cas" = 1 ] && [ "${#host_cas[@]}" -gt 0 ]; then
    key="$key $(cat "${host_cas[@]}" | sha256sum | cut -c1-16)"
  fi
  if [ "$REBASE" = 0 ] && pm image exists "docker.io/library/debian:$tag" \
     && [ "$(cat "$tar.imported" 2>/dev/null)" = "$key" ]; then
    say "base image docker.io/library/debian:$tag: present, reused"
    return
  fi
  if [ "$cas" = 1 ] && [ "${#host_cas[@]}" -gt 0 ]; then
    imp=$WORK/import.tar
    cp "$tar" "$imp"
    tar --numeric-owner --owner=0 --group=0 --mode=0644 -rf "$imp" \
      -C /usr/local/share/ca-certificates \
      --transform 's,^,./usr/local/share/ca-certificates/,' \
      "${host_cas[@]##*/}"
    say "debian:$tag also trusts: ${host_cas[*]}"
  fi
  say "importing $tar as docker.io/library/debian:$tag"
  pm image rm -f "docker.io/library/debian:$tag" >/dev/null 2>&1 || true
  pm import -q --change 'CMD ["bash"]' "$imp" "docker.io/library/debian:$tag" >/dev/null
  [ "$imp" = "$tar" ] || rm -f "$imp"
  printf '%s\n' "$key" >"$tar.imported"
}
if [ "$REBASE" = 1 ]; then
  rm -rf "$WORK"/rootfs "$WORK"/rootfs-slim "$WORK"/rootfs*.done "$WORK"/debian-12*.tar
fi
# $WORK/rootfs.done and rootfs-slim.done: the trees are complete (a run stopped half-way
# starts them again)
if [ ! -s "$WORK/debian-12.tar" ] && [ ! -e "$WORK/rootfs.done" ]; then
  say "debootstrap --variant=minbase bookworm -> $WORK/rootfs"
  rm -rf "$WORK/rootfs" "$WORK/rootfs-slim" "$WORK/rootfs-slim.done"
  nice -n 19 debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" \
    >"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log" >&2; fail "debootstrap"; }
  finish_rootfs "$WORK/rootfs"
  touch "$WORK/rootfs.done"
fi
if [ ! -s "$WORK/debian-12-slim.tar" ] && [ ! -e "$WORK/rootfs-slim.done" ]; then
  rm -rf "$WORK/rootfs-slim"
  cp -a "$WORK/rootfs" "$WORK/rootfs-slim"
  slimify_rootfs "$WORK/rootfs-slim"
  touch "$WORK/rootfs-slim.done"
fi
base_image 12 "$WORK/rootfs" "$WORK/debian-12.tar" 1
base_image 12-slim "$WORK/rootfs-slim" "$WORK/debian-12-slim.tar" 0
for t in 12 12-slim; do
  say "base debian:$t: $(pm image inspect --format '{{.Size}}' "docker.io/library/debian:$t") bytes"
done

# --- 3. build -----------------------------------------------------------------------------
# --format docker: the OCI format has no HEALTHCHECK (podman drops it with a warning);
# --pull=never: the FROM lines resolve to the local base images, no registry is asked
rm -rf "$CTX"
git clone -q "$REPO" "$CTX"
say "context: clean clone of $REPO at $(git -C "$CTX" rev-parse --short HEAD) in $CTX"
say "building (nice -n 19, log $WORK/build.log)"
t0=$(date +%s)
if ! nice -n 19 podman --root "$WORK/storage-$DRIVER" --runroot "$RUNROOT" \
     --storage-driver "$DRIVER" build --format docker --pull=never "${NOCACHE[@]}" \
     -t "$IMAGE" "$CTX" >"$WORK/build.log" 2>&1; then
  tail -30 "$WORK/build.log" >&2
  fail "podman build (log $WORK/build.log)"
fi
t1=$(date +%s)
size=$(pm image inspect --format '{{.Size}}' "$IMAGE")
say "built $IMAGE in $((t1 - t0)) s; image size $size bytes ($((size / 1048576)) MiB)"
hc=$(pm image inspect --format '{{json .Config.Healthcheck}}' "$IMAGE")
case "$hc" in *"/dev/tcp/127.0.0.1/8080"*) say "image keeps its HEALTHCHECK" ;;
  *) fail "image has no HEALTHCHECK: $hc" ;; esac
[ "$(pm image inspect --format '{{.Config.User}}' "$IMAGE")" = "10001:10001" ] \
  || fail "image USER is not 10001:10001"
extra=$(pm run --rm --entrypoint /bin/sh "$IMAGE" -c \
  'find /usr/local/share/ca-certificates /etc/npmrc -type f 2>/dev/null; true' 2>/dev/null)
[ -z "$extra" ] || fail "the image holds build-host files: $extra"
say "image USER 10001:10001; no host CA certificates in it"

# --- 4. run -------------------------------------------------------------------------------
cleanup() { pm rm -f -t 5 "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT
pm run -d --name "$NAME" -p "127.0.0.1:$PORT:8080" "$IMAGE" >/dev/null \
  || fail "podman run -p 127.0.0.1:$PORT:8080"
say "started container $NAME (-p 127.0.0.1:$PORT:8080)"
up=0
for _ in $(seq 1 60); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null; then up=1; break; fi
  [ "$(pm inspect --format '{{.State.Running}}' "$NAME")" = true ] || break
  sleep 1
done
if [ "$up" != 1 ]; then pm logs "$NAME" 2>&1 | tail -20 >&2; fail "/health did not answer"; fi
say "GET /health: $(curl -fsS "http://127.0.0.1:$PORT/health" | head -c 200)"

png="$WORK/check-tile.png"
rm -f "$png"
code=$(curl -sS -o "$png" -w '%{http_code} %{content_type}' "http://127.0.0.1:$PORT$TILE")
say "GET $TILE: $code, $(stat -c %s "$png") bytes"
case "$code" in "200 image/png"*) ;; *) fail "tile answered $code" ;; esac
/usr/bin/python3 - "$png" <<'EOF' || fail "tile is not a non-blank PNG"
import sys
from PIL import Image
im = Image.open(sys.argv[1])
im.load()
assert im.format == "PNG", im.format
assert im.size == (256, 256), im.size
colors = im.convert("RGBA").getcolors(1 << 16)
n = len(colors) if colors else 1 << 16
assert n > 1, "one colour only: blank tile"
print("docker_check: tile: PNG %dx%d %s, %d colours" % (im.size + (im.mode, n)))
EOF

# shellcheck disable=SC2016 # $2 is awk's
uid=$(pm exec "$NAME" sh -c 'awk "/^Uid:/{print \$2}" /proc/1/status')
euid=$(pm exec "$NAME" id -u)
if [ "$uid" != 10001 ] || [ "$euid" != 10001 ]; then
  fail "server runs as uid $uid (exec: $euid), not 10001"
fi
say "server (pid 1 in the container) runs as uid $uid; exec gets uid $euid"

if pm healthcheck run "$NAME"; then
  say "podman healthcheck run: healthy"
else
  fail "podman healthcheck run: unhealthy"
fi
# the same command by hand, and that it does fail against a port nobody serves
cmd=$(pm image inspect --format '{{index .Config.Healthcheck.Test 3}}' "$IMAGE")
pm exec "$NAME" /bin/bash -c "$cmd" || fail "HEALTHCHECK command by hand"
if pm exec "$NAME" /bin/bash -c "${cmd//8080/8089}" 2>/dev/null; then
  fail "HEALTHCHECK command passes against a closed port"
fi
say "HEALTHCHECK command: passes on 8080, fails on a closed port"

pm stop -t 10 "$NAME" >/dev/null
rc=$(pm inspect --format '{{.State.ExitCode}}' "$NAME")
[ "$rc" = 0 ] || { pm logs "$NAME" 2>&1 | tail -10 >&2; fail "stopped with exit code $rc"; }
say "podman stop (SIGTERM): exit code 0"
pm rm "$NAME" >/dev/null
trap - EXIT
say "all checks passed"
