#!/bin/sh
# Checks the gateway image without Docker: runs the demo inside it (ops/image/run-image.py: the
# image's own libc, JRE and layers under chroot), waits until it serves, checks that a model
# answers, that the simulated traffic is counted in /metrics and that /dashboard is served, then
# stops it with SIGTERM as `docker stop` would. Root only.
#
#   ops/image/check-image.sh gateway/target/distill-image.tar [PORT]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
image=$1
port=${2:-18090}
log=$(mktemp)
python3 "$here/run-image.py" "$image" -e DISTILL_PORT="$port" -e DISTILL_STORE=/tmp/store \
  -- demo --quick --rate 20 --shift-after 0 >"$log" 2>&1 &
pid=$!
stop() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap stop EXIT
url=http://127.0.0.1:$port
i=0
until curl -fsS "$url/v2/health/ready" >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
    echo "the image did not become ready; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 1
done
echo "ready after ${i}s"
curl -fsS "$url/v2" && echo
models=$(curl -fsS "$url/v1/models")
echo "$models" | python3 -c 'import json,sys; m=json.load(sys.stdin); print("models:", m)' | cut -c1-300
sleep 5
ok=$(curl -fsS "$url/metrics" | awk '/^distill_requests_total\{.*outcome="ok"/ {s += $NF} END {print s + 0}')
echo "requests answered ok inside the image: $ok"
[ "$ok" -gt 0 ] || { echo "no request answered ok" >&2; cat "$log" >&2; exit 1; }
curl -fsS "$url/dashboard" | grep -q "<html" || { echo "no dashboard page" >&2; exit 1; }
echo "dashboard served"
stop
trap - EXIT
grep -m1 -i "onnx\|serving\|listening" "$log" || true
echo "image OK"
