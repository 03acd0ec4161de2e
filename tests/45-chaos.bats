#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Chaos: 5,000 WebSocket tunnels open at once through wsplice (tests/peers/chaos.c on both ends),
# each with its own random plan: message sizes, which side half-closes first, and about one
# tunnel in five reset (SO_LINGER 0) by the client, the server or both after a random number of
# bytes; then 5,000 more, not held, whose bytes flow during the handover to the kernel. Every byte is checked against a per-tunnel pattern: nothing lost, duplicated, reordered
# or crossed between tunnels, and after a half-close everything sent before it arrives. Then the
# daemon must be back where it started: descriptors, BPF map entries, tunnels, memory within a
# bound, one log line per tunnel with the termination state its plan implies, no alert.
# Both data paths (BPF and -dS), and the BPF path under "option splice-auto" (auto), where every
# tunnel is relayed for its first 100 ms (with splice(2) pipes once a buffer fills) and goes to
# the kernel in the middle of its traffic.

CONNS=5000
WARM=50
# A second wave, not held: its bytes flow from the 101 on, while the daemon hands the tunnel over
# to the kernel.
WAVE=5000
# RSS the daemon may keep after the chaos, over its warmed-up baseline. It trims its heap when
# it becomes idle (measured: back to within 0.2 MiB of the baseline on both paths).
RSS_SLACK_KIB=$((8 * 1024))

setup_file() {
	load helpers
	build_peers
}

setup() {
	load helpers
	common_setup
	need_daemon
	FE=$(free_port)
	WS=$(free_port)
	HT=$(free_port)
	CHAOS=$OUT/chaos
	SEED=${CHAOS_SEED:-$RANDOM$RANDOM}
}

teardown() {
	common_teardown
	dump_logs
}

# map_keys NAME: entries in the daemon's pinned BPF map NAME (sockhashes included: bpftool
# lists their keys even though their values, sockets, cannot be read).
map_keys() {
	timeout 10 bpftool -j map dump pinned "$(pin_dir)/$1" >"$LOGDIR/.map.json" 2>/dev/null ||
		return 1
	$PY -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$LOGDIR/.map.json"
}

# term_check: each chaos tunnel's log line has the termination state its plan implies: "----"
# without a reset, CD-- or SD-- after the client's or the server's.
term_check() {
	grep -E '"GET /ws/chaos/[0-9]+/1 ' "$LOGDIR/wsplice.log" |
		sed -E 's/.* ([-A-Za-z]{4}) [0-9]+\/[0-9]+\/[0-9]+\/[0-9]+\/[0-9]+ [0-9]+\/[0-9]+ "GET \/ws\/chaos\/([0-9]+)\/.*/\2 \1/' |
		sort >"$LOGDIR/terms"
	sort "$LOGDIR/plans" | join - "$LOGDIR/terms" >"$LOGDIR/joined"
	[ "$(wc -l <"$LOGDIR/joined")" -eq "$CONNS" ] || {
		echo "only $(wc -l <"$LOGDIR/joined") of $CONNS tunnels logged with a state" >&2
		return 1
	}
	awk '{ print $2, $3 }' "$LOGDIR/joined" | sort | uniq -c
	awk '!(($2 == "-" && $3 == "----") || ($2 == "C" && $3 == "CD--") ||
	       ($2 == "S" && $3 == "SD--") || ($2 == "CS" && $3 ~ /^[CS]D--$/)) { bad++; print }
	     END { exit bad > 0 }' "$LOGDIR/joined" | head -20
	[ "${PIPESTATUS[0]}" -eq 0 ]
}

# flow_counters: the daemon's counters of bytes that did not simply go through the kernel (printed
# with a failure, to tell a byte left on a socket from one lost in a psock queue).
flow_counters() {
	echo "RedirectFailures $(info RedirectFailures), UserHeldBytes $(info UserHeldBytes)," \
		"FlowPauses $(info FlowPauses), SpliceDemoted $(info SpliceDemoted)"
}

# chaos_test MODE: bpf, user (-dS) or auto (bpf with "option splice-auto").
chaos_test() {
	local fds0 rss0 rss1 t0 m path=$1 fextra=
	if [ "$1" = auto ]; then
		path=bpf
		fextra="    option splice-auto"
	fi
	need_bpf "$path"
	echo "seed $SEED (CHAOS_SEED=$SEED reruns the same plans)"
	bg srv timeout 200 "$CHAOS" server "$WS" --seed "$SEED" --conns $((CONNS + WARM + WAVE)) \
		--go "$LOGDIR/go" --timeout 180
	wait_for_log "$LOGDIR/srv.log" '^listening'
	std_cfg "$LOGDIR/wsplice.cfg" "$FE" "$WS" "$HT" 1h "" "$fextra"
	start_wsplice "$LOGDIR/wsplice.cfg" $(path_args "$path")
	wait_for_port "$FE"
	expect_splice_mode "$path"

	# Baseline after a warm-up of the same kind, so that what the daemon allocates on first
	# use (buffers, the allocator's arenas) is not counted as a leak.
	timeout 60 "$CHAOS" client "127.0.0.1:$FE" --seed "$SEED" --conns "$WARM" --first "$CONNS" \
		--timeout 50
	wait_until 10 '[ "$(info CurrConns)" -eq 0 ]'
	fds0=$(fd_count "$DAEMON_PID")
	rss0=$(rss_kib "$DAEMON_PID")
	echo "daemon at rest: $fds0 fds, RSS $rss0 KiB"

	# All tunnels upgraded and held open at once before any byte flows.
	t0=$(date +%s)
	bg cli timeout 200 "$CHAOS" client "127.0.0.1:$FE" --seed "$SEED" --conns "$CONNS" \
		--go "$LOGDIR/go" --plans "$LOGDIR/plans" --timeout 150
	wait_for_log "$LOGDIR/cli.log" "^open $CONNS\$" 90
	echo "$CONNS tunnels open after $(($(date +%s) - t0)) s"
	[ "$(info CurrTunnels)" -eq "$CONNS" ]
	[ "$(fd_count "$DAEMON_PID")" -ge $((fds0 + 2 * CONNS)) ]
	if [ "$path" = bpf ]; then
		# under splice-auto the held tunnels reach the kernel 100 ms after their 101
		wait_until 5 '[ "$(info SplicedTunnels)" -eq "$CONNS" ]'
		[ "$(sock_map_count)" -eq $((2 * CONNS)) ]
	fi

	touch "$LOGDIR/go"
	wait "$cli_PID" || { cat "$LOGDIR/cli.log"; flow_counters; return 1; }
	cat "$LOGDIR/cli.log"
	grep -q "^ok $CONNS tunnels" "$LOGDIR/cli.log"
	echo "held wave done after $(($(date +%s) - t0)) s"
	run timeout 150 "$CHAOS" client "127.0.0.1:$FE" --seed "$SEED" --conns "$WAVE" \
		--first $((2 * CONNS)) --timeout 120
	echo "$output" | tail -n 25
	flow_counters
	[ "$status" -eq 0 ]
	wait "$srv_PID" || { cat "$LOGDIR/srv.log"; return 1; }
	cat "$LOGDIR/srv.log"
	grep -q "^ok $((CONNS + WARM + WAVE)) tunnels" "$LOGDIR/srv.log"
	echo "chaos done after $(($(date +%s) - t0)) s"

	# Back to the baseline: no tunnel, no connection, no descriptor, no map entry.
	wait_until 20 '[ "$(info CurrTunnels)" -eq 0 ]'
	wait_until 10 '[ "$(info CurrConns)" -eq 0 ]'
	wait_until 10 '[ "$(fd_count "$DAEMON_PID")" -eq "$fds0" ]'
	echo "UserRelayBytes $(info UserRelayBytes), UserPipeBytes $(info UserPipeBytes)," \
		"CumSplicedTunnels $(info CumSplicedTunnels), PipesUsed $(info PipesUsed)"
	[ "$(info PipesUsed)" -eq 0 ]
	if [ "$path" = bpf ]; then
		[ "$(info SplicedTunnels)" -eq 0 ]
		for m in wsplice_sock wsplice_limit wsplice_socks wsplice_targets; do
			wait_until 10 "[ \"\$(map_keys $m)\" -eq 0 ]"
		done
	fi
	rss1=$(rss_kib "$DAEMON_PID")
	echo "RSS $rss0 -> $rss1 KiB (bound: +$((RSS_SLACK_KIB / 1024)) MiB)"
	if ldd "$WSPLICE" | grep -q libasan; then
		echo "RSS bound not checked: ASan's allocator keeps freed memory in quarantine"
	else
		[ "$rss1" -le $((rss0 + RSS_SLACK_KIB)) ]
	fi

	# One line per tunnel, with the termination its plan implies; no alert, no crash.
	term_check
	refute grep -E '\[ALERT\]|AddressSanitizer|runtime error|LeakSanitizer|BUG at' \
		"$LOGDIR/wsplice.log"
	kill -0 "$DAEMON_PID"
	stop_wsplice
}

@test "chaos: $CONNS tunnels, random sizes, half-closes and resets, every byte checked (bpf)" {
	chaos_test bpf
}

@test "chaos: $CONNS tunnels, random sizes, half-closes and resets, every byte checked (userspace)" {
	chaos_test user
}

@test "chaos: $CONNS tunnels, random sizes, half-closes and resets, every byte checked (bpf, option splice-auto)" {
	chaos_test auto
}
