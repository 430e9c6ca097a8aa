#!/usr/bin/env bash
# Starts the release folder the way the Dockerfile and deploy/roster.service do, from a
# copy outside the source tree, as an unprivileged user when run as root: it must
# migrate a new database, answer /readyz, serve a page whose content-named files load
# (brotli, cached for a year), and stop cleanly on SIGTERM. Then checks the systemd
# unit with systemd-analyze where it is installed.
#
#   deploy/smoke.sh [RELEASE_DIR]     (default dist/roster, as `make release` writes it)
set -euo pipefail
release=${1:-dist/roster}
[ -x "$release/roster" ] || { echo "no $release/roster: run make release" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/opt" "$work/data"
cp -r "$release" "$work/opt/roster"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run_as=()
if [ "$(id -u)" = 0 ]; then
  chown -R nobody "$work/data"
  chmod 755 "$work"
  run_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
fi
base="http://127.0.0.1:$port"
(
  cd "$work/data"
  exec env -i PATH=/usr/bin:/bin \
    DATABASE_URL="sqlite://$work/data/roster.db?mode=rwc" \
    ROSTER_ADDR="127.0.0.1:$port" ROSTER_LOG_FORMAT=json ROSTER_DEMO_USERS=0 \
    "${run_as[@]}" "$work/opt/roster/roster" serve
) > "$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/log"; echo "the server exited" >&2; exit 1; }
  sleep 0.2
done
curl -fsS "$base/readyz" >/dev/null
page=$(curl -sS "$base/login")  # (the sign-in page answers 401: nobody is signed in)
js=$(grep -o '/pkg/roster\.[0-9a-f]\{16\}\.js' <<<"$page" | head -1)
wasm=$(grep -o '/pkg/roster\.[0-9a-f]\{16\}\.wasm' <<<"$page" | head -1)
css=$(grep -o '/pkg/roster\.[0-9a-f]\{16\}\.css' <<<"$page" | head -1)
for file in "$js" "$wasm" "$css"; do
  [ -n "$file" ] || { echo "the page names no content-named file: $page" >&2; exit 1; }
  headers=$(curl -fsS -o /dev/null -D - -H 'accept-encoding: br' "$base$file")
  grep -qi '^content-encoding: br' <<<"$headers" || { echo "$file not sent as brotli: $headers" >&2; exit 1; }
  grep -qi '^cache-control: public, max-age=31536000, immutable' <<<"$headers" \
    || { echo "$file not cacheable: $headers" >&2; exit 1; }
done
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" = 0 ] || { cat "$work/log"; echo "exit status $status after SIGTERM" >&2; exit 1; }
grep -q '"Roster stopped"\|Roster stopped' "$work/log" || { cat "$work/log"; echo "no clean stop in the log" >&2; exit 1; }
echo "release folder: migrated, ready, served $js $wasm $css, stopped cleanly on SIGTERM"

if command -v systemd-analyze >/dev/null; then
  unit=$work/roster.service
  sed "s|/opt/roster/roster|$work/opt/roster/roster|" deploy/roster.service > "$unit"
  systemd-analyze verify "$unit"
  echo "deploy/roster.service: systemd-analyze verify passed"
fi
