#!/usr/bin/env bash
# The fleet drill by hand (FleetDrillTests is the same drill as a test):
#   scripts/fleet-drill.sh [PAYMENTS]       # default 10000
# Starts a throwaway PostgreSQL (scripts/postgres-sandbox.sh), a Salesforce simulator over
# loopback HTTP with a 503 storm from 4 s to 12 s and 5 % of answers lost after commit
# (`PaymentService simulator`), and four PaymentService processes on the one PostgreSQL outbox
# and token store. Three seconds in it kills two of them with SIGKILL; three seconds later it
# starts another. When the survivors are done it prints what the org holds (payments once, more
# than once, token requests) and what is still queued, and exits non-zero if anything was lost,
# duplicated or left behind. Everything it made is in the folder it prints; it removes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-10000}"
swift build --product PaymentService >&2
bin="$(swift build --show-bin-path)/PaymentService"
work="$(mktemp -d /tmp/fleet-drill.XXXXXX)"
echo "fleet drill: $count payments; logs in $work" >&2

# Its own folder: as root, the server runs as the postgres user, who cannot enter $work.
pgdir="$(mktemp -d /tmp/fleet-drill-postgres.XXXXXX)"
pg="$(scripts/postgres-sandbox.sh start "$pgdir")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  [ -n "${sim:-}" ] && kill -9 "$sim" 2>/dev/null || true
  scripts/postgres-sandbox.sh stop "$pgdir"
}
trap cleanup EXIT

"$bin" simulator --storm-from 4 --storm-for 8 --lost-answers 0.05 >"$work/simulator.json" 2>"$work/simulator.log" &
sim=$!
for _ in $(seq 1 100); do grep -q "simulator listening at" "$work/simulator.log" && break; sleep 0.1; done
org="$(sed -n 's/.*simulator listening at \(http[^ ]*\).*/\1/p' "$work/simulator.log" | head -1)"
[ -n "$org" ] || { echo "the simulator did not start: $(cat "$work/simulator.log")" >&2; exit 1; }

service() {
  SF_CLIENT_ID=fleet SF_CLIENT_SECRET=drill "$bin" --instance-url "$org" --allow-http-loopback --postgres-url "$pg" \
    --count "$count" --rate 2500 --batch-timeout 5 --exit-when-done >"$work/service-$1.json" 2>"$work/service-$1.log" &
  pids+=($!)
}
for n in 1 2 3 4; do service "$n"; done
sleep 3
kill -9 "${pids[0]}" "${pids[1]}"
echo "fleet drill: killed services 1 and 2 with SIGKILL" >&2
sleep 3
service 5
echo "fleet drill: started service 5" >&2
status=0
for pid in "${pids[2]}" "${pids[3]}" "${pids[4]}"; do wait "$pid" || status=$?; done
kill -TERM "$sim"
wait "$sim" || true
held="$(cat "$work/simulator.json")"
queued="$(psql "$pg" -Atc "SELECT count(*) FROM salesforce_resilience.outbox")"
dead="$(psql "$pg" -Atc "SELECT count(*) FROM salesforce_resilience.dead_letters")"
echo "org: $held"
echo "outbox: $queued still queued, $dead dead-lettered; survivors' exit status $status"
python3 - "$held" "$count" "$queued" "$dead" "$status" <<'PY'
import json, sys
held, count, queued, dead, status = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
ok = held["records"] + dead == count and held["duplicated"] == 0 and queued == 0 and status == 0
print("fleet drill: " + ("every payment landed once or is dead-lettered" if ok else "FAILED"))
sys.exit(0 if ok else 1)
PY
