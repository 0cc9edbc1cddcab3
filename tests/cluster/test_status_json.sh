#!/usr/bin/env bash
# `dvs cluster status --json` is JSON whatever the run directory's path
# holds (quotes, backslashes, control characters, bytes that are not
# UTF-8): clusters faked on disk, so no root, namespaces or Corosync.
set -euo pipefail
bin=${DVS_BIN:?}
fail() { echo "FAIL: $*" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

run=$T/$'q"b\\s\tt\001\xff\xc3\xa9 x'
mkdir -p "$run/cluster/abc" "$run/cluster/z9"
echo 2 >"$run/cluster/abc/nodes"
echo 1 >"$run/cluster/z9/nodes"

DVS_RUN_DIR=$run "$bin/dvs-cluster" status --json >"$T/all.json" || fail "status --json exited $?"
DVS_RUN_DIR=$run "$bin/dvs-cluster" status abc --json >"$T/one.json" || fail "status abc --json exited $?"
mkdir "$T/empty"
DVS_RUN_DIR=$T/empty "$bin/dvs-cluster" status --json >"$T/none.json" || fail "status --json (no cluster) exited $?"

python3 -c 'import json,sys; json.load(sys.stdin)' <"$T/all.json" ||
	fail "status --json is not JSON: $(cat -v "$T/all.json")"
python3 - "$T/all.json" "$T/one.json" "$T/none.json" "$run" <<'PY'
import json, os, sys
def load(p):
    with open(p, "rb") as f:
        return json.loads(f.read().decode("utf-8", "surrogateescape"))
run = os.fsdecode(os.fsencode(sys.argv[4]))
alld, one, none = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
assert none == [], none
assert sorted(c["name"] for c in alld) == ["abc", "z9"], alld
assert [c["name"] for c in one] == ["abc"], one
nodes = one[0]["nodes"]
assert [n["node"] for n in nodes] == [0, 1], nodes
for n in nodes:
    assert n["corosync"] == "down" and n["dvkd"] == "down", n
    assert n["members_seen"] == 0, n
# The path comes back whole, but for the byte that is not UTF-8 (jq
# writes U+FFFD for it).
want = (run + "/cluster/abc/n1/dvkd.sock").replace("\udcff", "\ufffd")
assert nodes[1]["socket"] == want, (nodes[1]["socket"], want)
PY
echo "status --json ok"
