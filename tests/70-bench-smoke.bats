#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# scripts/bench --smoke: one short round of every workload (many, idle, pingpong, bulk, churn) on
# every target (wsplice BPF, wsplice -dS, HAProxy, direct). Asserts only that each pair produced
# its numbers, which also means every echoed byte came back intact: speed is reported, never
# asserted (docs/performance.md).

setup() {
	load helpers
	common_setup
	need_daemon
	need_bpf bpf
	[ -x /usr/sbin/haproxy ] || skip "HAProxy is not installed (Debian package haproxy)"
	command -v taskset >/dev/null || skip "taskset is not installed (util-linux)"
	command -v cc >/dev/null || skip "no C compiler to build the benchmark's tools"
	# speed is what this script is for, and an ASan build's says nothing; the plain run ran it
	if sanitizer_build; then
		skip "benchmark figures of a sanitizer build mean nothing: the plain run ran it"
	fi
}

teardown() {
	common_teardown
	dump_logs
}

@test "bench --smoke: every workload produced numbers for all four targets" {
	run timeout 120 env WSPLICE="$WSPLICE" "$TOP/scripts/bench" --smoke --out "$LOGDIR/bench"
	echo "$output"
	[ -s "$LOGDIR/bench/results.json" ]
	[ -s "$LOGDIR/bench/table.txt" ]
	timeout 30 $PY - "$LOGDIR/bench/results.json" <<'EOF'
import json, math, os, sys

want = {"many": ["p50", "p99", "proxy_cpu", "machine_cpu"],
        "idle": ["rss", "slab", "mem"],
        "pingpong": ["p50", "p99"],
        "bulk": ["mibps", "cpu_per_gib", "proxy_cpu_per_gib"],
        "churn": ["rate"]}
# with two CPUs or more the tools share CPU 0 (the default placement), which churn's load-side
# figures are measured on
if (os.cpu_count() or 1) >= 2:
    want["churn"] += ["load_us", "ceiling"]
med = json.load(open(sys.argv[1]))["medians"]
missing = [f"{w}/{t}/{k}"
           for w, keys in want.items()
           for t in ("wsplice-bpf", "wsplice-user", "haproxy", "direct")
           for k in keys
           if not isinstance(med.get(w, {}).get(t, {}).get(k), (int, float))
           or not math.isfinite(med[w][t][k])]
if missing:
    sys.exit("no numbers for " + ", ".join(missing))
EOF
	[ "$status" -eq 0 ]
}
