#!/bin/sh
# Removes what infra/gateway/install.sh installed (docs/install.md):
#
#   sudo infra/gateway/uninstall.sh [--prefix DIR] [--purge]
#   DESTDIR=/tmp/stage infra/gateway/uninstall.sh    # from a staged install
#
# Stops and disables coaps-edge.service, removes the unit, the app under PREFIX and the
# /usr/local/bin/coaps-edge link. Keeps /etc/coaps-edge (agent.json, gateway-key.json), the
# state directory and the coaps-edge user unless --purge is given.
#
# Options and environment:
#   --prefix DIR | PREFIX   where the app was installed (default /opt/coaps-edge)
#   DESTDIR                 act on a staged install under this directory; skips systemctl and userdel
#   --purge                 also delete /etc/coaps-edge, /var/lib/coaps-edge and the coaps-edge user
set -eu

say() { printf 'uninstall: %s\n' "$*"; }
die() {
  printf 'uninstall: error: %s\n' "$*" >&2
  exit 1
}
usage() { sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

prefix=${PREFIX:-/opt/coaps-edge}
destdir=${DESTDIR:-}
purge=no
while [ $# -gt 0 ]; do
  case $1 in
  --prefix)
    [ $# -ge 2 ] || die "--prefix needs a directory"
    prefix=$2
    shift 2
    ;;
  --prefix=*)
    prefix=${1#--prefix=}
    shift
    ;;
  --purge)
    purge=yes
    shift
    ;;
  -h | --help)
    usage
    exit 0
    ;;
  *) die "unknown option: $1 (see --help)" ;;
  esac
done
case $prefix in
/?*) ;;
*) die "the prefix must be an absolute path other than /: $prefix" ;;
esac
prefix=${prefix%/}

confdir=/etc/coaps-edge
unitdir=/etc/systemd/system
user=coaps-edge

if [ -n "$destdir" ]; then
  case $destdir in /?*) ;; *) die "DESTDIR must be an absolute path other than /: $destdir" ;; esac
  destdir=${destdir%/}
  staged=yes
  say "DESTDIR mode: acting on $destdir; skipping systemctl and userdel"
else
  staged=no
  [ "$(id -u)" = 0 ] || die "run as root (sudo), or set DESTDIR for a staged install"
fi
root=$destdir
systemd_running=no
[ "$staged" = yes ] || [ ! -d /run/systemd/system ] || systemd_running=yes

# The service
if [ "$staged" = no ] && command -v systemctl >/dev/null 2>&1; then
  if [ "$systemd_running" = yes ]; then
    systemctl disable --now coaps-edge.service 2>/dev/null || true
  else
    systemctl disable coaps-edge.service 2>/dev/null || true
  fi
  say "stopped and disabled coaps-edge.service"
fi
if [ -e "$root$unitdir/coaps-edge.service" ]; then
  rm -f "$root$unitdir/coaps-edge.service"
  say "removed $unitdir/coaps-edge.service"
  [ "$systemd_running" = no ] || systemctl daemon-reload
fi

# The app: only what install.sh put there (the marker file says it did), so that a shared
# prefix such as /usr/local is never emptied wholesale.
if [ -f "$root$prefix/.coaps-edge-install" ]; then
  rm -rf "$root$prefix/app" "$root$prefix/app.new" "$root$prefix/app.old"
  rm -f "$root$prefix/bin/coaps-edge" "$root$prefix/share/agent.example.json" "$root$prefix/share/doc/install.md" \
    "$root$prefix/.coaps-edge-install"
  for d in "$root$prefix/bin" "$root$prefix/share/doc" "$root$prefix/share" "$root$prefix"; do
    rmdir "$d" 2>/dev/null || true
  done
  say "removed the app from $prefix"
elif [ -e "$root$prefix" ]; then
  die "$prefix has no .coaps-edge-install marker: not deleting anything there (wrong --prefix?)"
else
  say "no app at $prefix"
fi
link=$root/usr/local/bin/coaps-edge
if [ -L "$link" ] && [ "$(readlink "$link")" = "$prefix/bin/coaps-edge" ]; then
  rm -f "$link"
  say "removed /usr/local/bin/coaps-edge"
fi

# Config, keys, state, user
if [ "$purge" = yes ]; then
  rm -rf "$root$confdir" "$root/var/lib/coaps-edge"
  say "--purge: removed $confdir (config and gateway key) and /var/lib/coaps-edge"
  if [ "$staged" = no ] && getent passwd "$user" >/dev/null 2>&1; then
    userdel "$user"
    say "--purge: removed the system user $user"
  fi
else
  say "kept $confdir (agent.json, gateway-key.json); uninstall.sh --purge removes it and the user"
fi
