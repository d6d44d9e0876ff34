#!/usr/bin/env bash
# Side by side on loopback: p2psip's overlay and OpenDHT, same N nodes and M operations.
# Builds nothing: build the jar first with
#   mvn -q -B -pl testbed -am package -DskipTests
# Usage: testbed/bench-vs-opendht.sh [NODES] [OPS] [bench overlay options...]   (default 200 300)
#   e.g. testbed/bench-vs-opendht.sh 200 300 --timeline /tmp/ops.csv
set -euo pipefail
cd "$(dirname "$0")/.."

nodes="${1:-200}"
ops="${2:-300}"
shift $(( $# < 2 ? $# : 2 ))
jar=testbed/target/p2psip-testbed.jar
if [ ! -f "$jar" ]; then
  echo "missing $jar; build it first: mvn -q -B -pl testbed -am package -DskipTests" >&2
  exit 1
fi

echo "== p2psip: bench overlay --nodes $nodes --ops $ops $*; load:$(cut -d' ' -f1-4 /proc/loadavg)" >&2
# A fixed 1 GiB heap with a 600 MiB young generation, and the bench's one GC between warm-up and timed phase: the
# timed phase (about 70 MiB of garbage for 300 + 300 operations) then runs without a collection, so the figures
# measure the overlay, not a GC pause in the middle.
ours="$(java -Xms1g -Xmx1g -Xmn600m -jar "$jar" bench overlay --nodes "$nodes" --ops "$ops" "$@" | tail -n 1)"

if /usr/bin/python3 -c 'import opendht' 2>/dev/null; then
  echo "== OpenDHT: bench_opendht.py --nodes $nodes --ops $ops; load:$(cut -d' ' -f1-4 /proc/loadavg)" >&2
  theirs="$(/usr/bin/python3 testbed/opendht/bench_opendht.py --nodes "$nodes" --ops "$ops" | tail -n 1)"
else
  theirs="opendht: /usr/bin/python3 cannot import opendht; install it with: apt-get install python3-opendht"
fi

echo "p2psip  $ours"
echo "$theirs"
