#!/usr/bin/env bash
# Every benchmark, one after the other (they must not share the machine); results in bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
"$PY" -m bench.fanout
"$PY" -m bench.metrics_overhead
"$PY" -m bench.cross_instance
"$PY" -m bench.cluster_fanout   # a 3-primary Redis Cluster beside one Redis
"$PY" -m bench.connections
"$PY" -m bench.parties
"$PY" -m bench.party_browser
"$PY" -m bench.comments
"$PY" -m bench.graph
"$PY" -m bench.search
"$PY" -m bench.people_search
"$PY" -m bench.media
"$PY" -m bench.faults
"$PY" -m bench.privacy
"$PY" -m bench.web_load      # needs Node.js (web/node_modules) and /usr/bin/chromium
