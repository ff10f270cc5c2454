#!/bin/sh
# Installs the coaps-edge agent on a Linux border-router host as a hardened systemd service.
# Run it from a checkout of the repository (docs/install.md):
#
#   sudo infra/gateway/install.sh [--prefix DIR] [--deps npm|none] [--no-start]
#   DESTDIR=/tmp/stage infra/gateway/install.sh     # staged install into a throwaway root
#
# Steps (each prints what it did; running it again upgrades the app and keeps config and key):
#   1. checks for Node.js >= 20 (and npm);
#   2. creates the system user and group `coaps-edge`;
#   3. copies the app (shared/, edge-agent/, cloud/ sources) to PREFIX/app and installs its
#      runtime dependencies from package-lock.json (npm ci);
#   4. writes /etc/coaps-edge/agent.json from infra/gateway/agent.example.json if there is none
#      (never overwrites one), with a random PSK for the example device;
#   5. generates the gateway key /etc/coaps-edge/gateway-key.json with `coaps-edge keys --out FILE`
#      if there is none: mode 0600, owned by coaps-edge;
#   6. installs /etc/systemd/system/coaps-edge.service from coaps-edge.service.in (capabilities:
#      none, or CAP_NET_BIND_SERVICE when agent.json listens below port 1024), PREFIX/bin/coaps-edge
#      and the link /usr/local/bin/coaps-edge;
#   7. enables the service and (re)starts it where systemd runs.
#
# Options and environment:
#   --prefix DIR | PREFIX   where the app goes (default /opt/coaps-edge)
#   DESTDIR                 stage every file under this directory instead of /. Skips steps that
#                           touch the running system: useradd, chown, systemctl.
#   --deps npm|none         npm (default): `npm ci` the runtime dependencies into PREFIX/app;
#                           none: leave PREFIX/app/node_modules to a packager
#   --no-start              enable the unit but do not (re)start it
#   NODE                    absolute path of the node binary written into the unit (default: node on PATH)
#   COAPS_EDGE_KEYS_CMD     a command run instead of the installed `coaps-edge keys` for step 5
#                           (words split at blanks, no quoting); it gets `--out FILE` appended
#                           and must create FILE. For tests and packagers.
set -eu
umask 022

say() { printf 'install: %s\n' "$*"; }
die() {
  printf 'install: error: %s\n' "$*" >&2
  exit 1
}
usage() { sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

script_dir=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
src=$(CDPATH='' cd -- "$script_dir/../.." && pwd)

prefix=${PREFIX:-/opt/coaps-edge}
destdir=${DESTDIR:-}
deps=npm
start=yes
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
  --deps)
    [ $# -ge 2 ] || die "--deps needs npm or none"
    deps=$2
    shift 2
    ;;
  --deps=*)
    deps=${1#--deps=}
    shift
    ;;
  --no-start)
    start=no
    shift
    ;;
  -h | --help)
    usage
    exit 0
    ;;
  *) die "unknown option: $1 (see --help)" ;;
  esac
done

# Paths end up unquoted in the unit file and the wrapper: allow only plain characters.
plain_path() {
  case $1 in
  /*) ;;
  *) die "$2 must be an absolute path: $1" ;;
  esac
  case $1 in
  *[!A-Za-z0-9._/+-]*) die "$2 may only contain letters, digits and . _ / + -: $1" ;;
  esac
}
plain_path "$prefix" "the prefix"
prefix=${prefix%/}
[ -n "$prefix" ] || die "the prefix must not be /"
case $deps in npm | none) ;; *) die "--deps must be npm or none, not $deps" ;; esac

confdir=/etc/coaps-edge
unitdir=/etc/systemd/system
user=coaps-edge

if [ -n "$destdir" ]; then
  plain_path "$destdir" "DESTDIR"
  destdir=${destdir%/}
  staged=yes
  say "DESTDIR mode: staging into $destdir; skipping useradd, chown and systemctl"
else
  staged=no
  [ "$(id -u)" = 0 ] || die "run as root (sudo), or set DESTDIR=/some/dir for a staged install"
fi
root=$destdir

# 1. Node.js
node=${NODE:-$(command -v node || true)}
[ -n "$node" ] || die "Node.js not found: install Node.js >= 20 (Debian: apt-get install nodejs) or set NODE=/path/to/node"
plain_path "$node" "NODE"
[ -x "$node" ] || die "$node is not executable"
"$node" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  die "Node.js >= 20 is required; $node is $("$node" --version)"
if [ ! -f "$src/edge-agent/bin/coaps-edge.mjs" ] || [ ! -f "$src/package-lock.json" ]; then
  die "$src is not a coaps-edge checkout (edge-agent/bin/coaps-edge.mjs or package-lock.json missing)"
fi
version=$("$node" -p 'require(process.argv[1]).version' "$src/edge-agent/package.json")
say "installing coaps-edge $version with $node ($("$node" --version)) into ${destdir}$prefix"

# 2. The service user
if [ "$staged" = yes ]; then
  say "DESTDIR mode: not creating the system user $user"
elif getent passwd "$user" >/dev/null 2>&1; then
  say "system user $user exists"
else
  command -v useradd >/dev/null 2>&1 || die "useradd not found (Debian: apt-get install passwd)"
  nologin=$(command -v nologin || echo /usr/sbin/nologin)
  useradd --system --user-group --home-dir /var/lib/coaps-edge --no-create-home \
    --shell "$nologin" --comment "coaps-edge agent" "$user"
  say "created system user and group $user"
fi

# 3. The app, staged next to the old one and swapped in once its dependencies are there
app=$root$prefix/app
stage=$root$prefix/app.new
rm -rf "$stage"
mkdir -p "$stage"
set --
for p in package.json package-lock.json tsconfig.base.json shared edge-agent cloud/package.json cloud/src cloud/resources; do
  [ -e "$src/$p" ] && set -- "$@" "$p"
done
(cd "$src" && tar --exclude=node_modules --exclude=dist --exclude='*.tsbuildinfo' --exclude=.wrangler -cf - "$@") |
  (cd "$stage" && tar --no-same-owner -xf -)
say "copied $* to $prefix/app"

if [ "$deps" = npm ]; then
  npm=$(command -v npm || true)
  [ -n "$npm" ] || die "npm not found (needed for --deps npm; Debian: apt-get install npm)"
  # bin/coaps-edge.mjs runs the TypeScript through tsx. Until edge-agent lists tsx among its
  # dependencies, tsx is a devDependency of the workspace root, so the root's are included.
  if "$node" -e 'const p = require(process.argv[1]); process.exit(p.dependencies && p.dependencies.tsx ? 0 : 1)' "$stage/edge-agent/package.json"; then
    set -- --omit=dev
  else
    set -- --include-workspace-root
  fi
  say "installing runtime dependencies: npm ci $* --workspace @coaps-edge/edge-agent"
  (cd "$stage" && "$npm" ci "$@" --workspace @coaps-edge/edge-agent --ignore-scripts --prefer-offline \
    --no-audit --no-fund --loglevel=error) || die "npm ci failed in $stage"
  (cd "$stage" && "$node" --input-type=module -e 'await import("tsx/esm/api")') ||
    die "the installed app cannot load tsx (npm ci left it out?)"
  # The start-up bundle: ~50 MB less RSS than running the sources through tsx (docs/benchmarks.md,
  # issue 7). bin/coaps-edge.mjs runs it only while nothing it was built from has changed, and
  # the sources through tsx otherwise, so a failed build here costs memory, not correctness.
  if (cd "$stage" && "$node" edge-agent/bin/bundle.mjs >/dev/null); then
    say "built the start-up bundle (edge-agent/dist/bundle)"
  else
    say "warning: the start-up bundle did not build; the agent runs its sources through tsx"
  fi
else
  say "--deps none: not installing node_modules (the packager provides $prefix/app/node_modules)"
fi
if [ -d "$app" ]; then
  rm -rf "$app.old"
  mv "$app" "$app.old"
fi
mv "$stage" "$app"
rm -rf "$app.old"

mkdir -p "$root$prefix/bin" "$root$prefix/share/doc" "$root/usr/local/bin"
cat >"$root$prefix/bin/coaps-edge" <<EOF
#!/bin/sh
exec $node $prefix/app/edge-agent/bin/coaps-edge.mjs "\$@"
EOF
chmod 0755 "$root$prefix/bin/coaps-edge"
ln -sfn "$prefix/bin/coaps-edge" "$root/usr/local/bin/coaps-edge"
cp "$script_dir/agent.example.json" "$root$prefix/share/agent.example.json"
[ ! -f "$src/docs/install.md" ] || cp "$src/docs/install.md" "$root$prefix/share/doc/install.md"
printf 'version=%s\nnode=%s\nprefix=%s\n' "$version" "$node" "$prefix" >"$root$prefix/.coaps-edge-install"
say "installed $prefix/bin/coaps-edge and /usr/local/bin/coaps-edge"

# 4. Config: root-owned, readable by the service group (it holds PSKs), never overwritten
etc=$root$confdir
mkdir -p "$etc"
chmod 0750 "$etc"
[ "$staged" = yes ] || chown "root:$user" "$etc"
conf=$etc/agent.json
if [ -e "$conf" ]; then
  say "keeping the existing $confdir/agent.json"
else
  psk=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  [ ${#psk} -eq 32 ] || die "could not read 16 random bytes from /dev/urandom"
  tmp=$conf.tmp.$$
  (umask 077 && sed "s/@GENERATED_PSK@/$psk/" "$script_dir/agent.example.json" >"$tmp")
  chmod 0640 "$tmp"
  [ "$staged" = yes ] || chown "root:$user" "$tmp"
  mv "$tmp" "$conf"
  say "wrote $confdir/agent.json from agent.example.json: PSK identity device-1 has a random key (provision the device with it)"
fi

# 5. Gateway key: private to the service user
key=$etc/gateway-key.json
if [ -e "$key" ]; then
  say "keeping the existing gateway key $confdir/gateway-key.json"
else
  keys_cmd=${COAPS_EDGE_KEYS_CMD:-"$node $app/edge-agent/bin/coaps-edge.mjs keys"}
  [ -z "${COAPS_EDGE_KEYS_CMD:-}" ] || say "generating the gateway key with COAPS_EDGE_KEYS_CMD ($keys_cmd)"
  tmp=$key.tmp.$$
  rc=0
  # shellcheck disable=SC2086 # the command is words on purpose (paths checked to hold no blanks)
  (umask 077 && $keys_cmd --out "$tmp") || rc=$?
  if [ "$rc" -ne 0 ] || [ ! -s "$tmp" ]; then
    rm -f "$tmp"
    die "could not generate the gateway key: \`coaps-edge keys --out FILE\` failed (exit $rc)$([ "$rc" -ne 0 ] || echo ' and wrote nothing'). This build of the agent may lack the keys command; nothing else is wrong: install a build that has it and run install.sh again."
  fi
  chmod 0600 "$tmp"
  [ "$staged" = yes ] || chown "$user:$user" "$tmp"
  mv "$tmp" "$key"
  if [ "$staged" = yes ]; then
    say "generated $confdir/gateway-key.json (mode 0600; DESTDIR mode: chown it to $user:$user on the target)"
  else
    say "generated $confdir/gateway-key.json (mode 0600, owner $user)"
  fi
fi

# 6. The unit
low=$("$node" -e '
  // The lowest port agent.json listens on, with the schema defaults (shared/src/schemas/config.ts).
  const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const listen = c.listen || {}, coaps = c.coaps || {}, metrics = c.metrics || {};
  const lp = listen.port ?? 5683;
  const ports = [];
  if (listen.enabled !== false) ports.push(lp);
  if (coaps.enabled) ports.push(coaps.port ?? (lp === 0 ? 0 : lp + 1));
  if (typeof metrics.port === "number") ports.push(metrics.port);
  const bound = ports.filter((p) => Number.isInteger(p) && p > 0);
  console.log(bound.length ? Math.min(...bound) : 0);
' "$conf") || die "$confdir/agent.json is not valid JSON"
if [ "$low" -gt 0 ] && [ "$low" -lt 1024 ]; then
  caps=CAP_NET_BIND_SERVICE
  say "agent.json listens on port $low (< 1024): the unit keeps CAP_NET_BIND_SERVICE"
else
  caps=
fi
mkdir -p "$root$unitdir"
unit=$root$unitdir/coaps-edge.service
sed -e "s|@NODE@|$node|g" -e "s|@PREFIX@|$prefix|g" -e "s|@CONFDIR@|$confdir|g" -e "s|@CAPABILITIES@|$caps|g" \
  "$script_dir/coaps-edge.service.in" >"$unit.tmp"
chmod 0644 "$unit.tmp"
mv "$unit.tmp" "$unit"
say "installed $unitdir/coaps-edge.service (capabilities: ${caps:-none})"

# 7. Enable and start
if [ "$staged" = yes ]; then
  say "DESTDIR mode: not enabling the service"
elif ! command -v systemctl >/dev/null 2>&1; then
  say "systemctl not found: start the agent yourself (ExecStart line of $unitdir/coaps-edge.service)"
elif [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable coaps-edge.service
  if [ "$start" = yes ]; then
    systemctl restart coaps-edge.service
    say "enabled and started coaps-edge.service (systemctl status coaps-edge; journalctl -u coaps-edge)"
  else
    say "enabled coaps-edge.service (--no-start: start it with systemctl start coaps-edge)"
  fi
else
  systemctl enable coaps-edge.service
  say "systemd is not running here: enabled coaps-edge.service for the next boot, not started"
fi
say "done. Config: $confdir/agent.json  key: $confdir/gateway-key.json  app: $prefix"
