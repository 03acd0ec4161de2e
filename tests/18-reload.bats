#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Reloads that keep tunnels: "wsplice -x SOCK -sf OLD" takes the old process's listeners and
# tunnels over its stats socket (SCM_RIGHTS) and its pinned BPF maps; the old one exits at once.
# Every tunnel streams a per-connection pattern through the reload and checks each echoed byte.

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
	STATS_SOCK=$LOGDIR/wsplice.sock
	PATTERN="$PY $PEERS/pattern_peer.py"
}

teardown() {
	common_teardown
	dump_logs
}

# reload_cfg FILE [STATS_OPTS]: one frontend, one WebSocket backend, the stats socket with
# "expose-fd listeners" unless STATS_OPTS says otherwise.
reload_cfg() {
	local opts=${2-level admin expose-fd listeners}
	cfg_head "$1" stats="mode 600 $opts" log-format="$LOGFMT_U" tunnel=1h <<EOF
frontend fe_main
    bind 127.0.0.1:$FE
    default_backend websocket_servers
backend websocket_servers
    server s1 127.0.0.1:$WS
EOF
}

# start_new NAME ARGS...: starts the replacing process (log NAME.log, pidfile NAME.pid) with
# -x on the stats socket; NEW_PID is its pid once the pidfile exists (tunnels adopted by then).
start_new() {
	local name=$1 i
	shift
	bg "$name" timeout 600 "$WSPLICE" -d -p "$LOGDIR/$name.pid" -x "$STATS_SOCK" "$@"
	for ((i = 0; i < 200; i++)); do
		if [ -s "$LOGDIR/$name.pid" ]; then
			NEW_PID=$(head -n1 "$LOGDIR/$name.pid")
			PIDS+=("$NEW_PID")
			return 0
		fi
		sleep 0.05
	done
	echo "the new process wrote no pidfile; its log:" >&2
	cat "$LOGDIR/$name.log" >&2
	return 1
}

# start_tunnels N: N tunnels streaming 1 KiB every 100 ms each, until $LOGDIR/stop exists.
start_tunnels() {
	bg cli timeout 300 $PATTERN client "127.0.0.1:$FE" --conns "$1" --chunk 1024 \
		--interval 100 --until "$LOGDIR/stop" --ready "$LOGDIR/ready" --report "$LOGDIR/report"
	wait_until 60 "[ -e $LOGDIR/ready ]"
	[ "$(info CurrTunnels)" -eq "$1" ]
}

# end_tunnels: stops the senders, each tunnel half-closes, drains and checks its echo.
end_tunnels() {
	touch "$LOGDIR/stop"
	wait "$cli_PID"
	cat "$LOGDIR/cli.log"
	grep -q "^ok conns=" "$LOGDIR/cli.log"
}

# check_log_bytes LOG: every tunnel of the report has one 101 line in LOG whose byte counts
# (%B sent to the client, %U received from it) are exactly what its client sent and received,
# heads included, although the tunnel changed process midway.
check_log_bytes() {
	$PY - "$LOGDIR/report" "$1" <<'EOF'
import re, sys
report, log = sys.argv[1], sys.argv[2]
lines = {}
for line in open(log, errors="replace"):
    m = re.match(r"127\.0\.0\.1:(\d+) \[.*\] \S+ \S+ \S+ 101 (\d+) (\d+) ", line)
    if m:
        lines.setdefault(int(m.group(1)), []).append((int(m.group(2)), int(m.group(3))))
bad = 0
for row in open(report):
    port, up, down = map(int, row.split())
    got = lines.get(port, [])
    if got != [(down, up)]:
        bad += 1
        if bad <= 5:
            print("port %d: client up %d down %d; log says %r" % (port, up, down, got))
print("%d tunnels checked, %d wrong" % (sum(1 for _ in open(report)), bad))
sys.exit(1 if bad else 0)
EOF
}

# one_tunnel MODE TUNNEL_TIMEOUT STREAM_SERVER_ARGS...: fresh ports, a stream server with those
# arguments, and the daemon on data path MODE, for a test that runs once per data path.
one_tunnel() {
	local mode=$1 tunnel=$2
	shift 2
	need_bpf "$mode"
	WS=$(free_port)
	FE=$(free_port)
	rm -f "$LOGDIR"/new*.pid
	bg srv timeout 60 "$STREAM" server "$WS" --timeout 30 "$@"
	wait_for_port "$WS"
	reload_cfg "$LOGDIR/w.cfg"
	sed -i "s/timeout tunnel 1h/timeout tunnel $tunnel/" "$LOGDIR/w.cfg"
	start_wsplice "$LOGDIR/w.cfg" $(path_args "$mode")
	wait_for_port "$FE"
}

# stop_new: the replacing process ends (SIGTERM) before the next data path's round.
stop_new() {
	kill "$NEW_PID"
	wait_until 5 "! kill -0 $NEW_PID"
}

# reload_keeps OLD_PATH NEW_PATH N: the test body for N tunnels reloaded from one data path
# to another (bpf or user).
reload_keeps() {
	local from=$1 to=$2 n=$3 old k0 t0 ms
	need_bpf "$from"
	need_bpf "$to"
	bg srv timeout 300 $PATTERN server "$WS"
	wait_for_port "$WS"
	reload_cfg "$LOGDIR/w.cfg"
	start_wsplice "$LOGDIR/w.cfg" $(path_args "$from")
	wait_for_port "$FE"
	start_tunnels "$n"
	old=$DAEMON_PID
	[ "$from" = user ] || [ "$(info SplicedTunnels)" -eq "$n" ]
	k0=$(info KernelBytes)

	t0=$(date +%s%N)
	start_new new -f "$LOGDIR/w.cfg" $(path_args "$to") -sf "$old"
	wait_until 5 "! kill -0 $old"
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "old process gone ${ms} ms after the new one started"
	[ "$ms" -lt 2000 ]
	grep -q "took $n tunnels from process $old" "$LOGDIR/new.log"
	grep -q "$n tunnels handed to the new process, 0 connections left" "$LOGDIR/wsplice.log"
	# the old process logs none of them: the new one will, once, at their end
	refute grep -q " 101 " "$LOGDIR/wsplice.log"

	[ "$(info Pid)" -eq "$NEW_PID" ]
	[ "$(info CurrTunnels)" -eq "$n" ]
	if [ "$to" = bpf ]; then
		# tunnels relayed by the old process move into the kernel here
		wait_until 10 "[ \$(info SplicedTunnels) -eq $n ]"
		[ -d "/sys/fs/bpf/wsplice/$NEW_PID" ]
		[ ! -e "/sys/fs/bpf/wsplice/$old" ]
		# the same BPF counters go on: nothing restarts from zero
		[ "$(info KernelBytes)" -ge "$k0" ]
		wait_until 10 "[ \$(info KernelBytes) -gt $k0 ]"
	fi
	# the new process accepts on the listener it inherited
	run timeout 20 $PATTERN client "127.0.0.1:$FE" --conns 1 --until /
	[ "$status" -eq 0 ]

	sleep 1
	end_tunnels
	wait_until 20 "[ \$(grep -c ' 101 ' $LOGDIR/new.log) -eq $((n + 1)) ]"
	check_log_bytes "$LOGDIR/new.log"
	[ "$(info CurrTunnels)" -eq 0 ]
	[ "$to" = user ] || [ "$(DAEMON_PID=$NEW_PID sock_map_count)" -eq 0 ]
}

@test "reload: 500 spliced tunnels move to the new process, no byte lost, old gone in 2 s" {
	reload_keeps bpf bpf 500
}

@test "reload: 500 relayed tunnels (-dS) move to the new process, no byte lost" {
	reload_keeps user user 500
}

@test "reload: from -dS to the BPF path, relayed tunnels continue in the kernel" {
	reload_keeps user bpf 100
}

@test "reload: to a process that does not splice, spliced tunnels finish in the old one" {
	need_bpf bpf
	bg srv timeout 300 $PATTERN server "$WS"
	wait_for_port "$WS"
	reload_cfg "$LOGDIR/w.cfg"
	start_wsplice "$LOGDIR/w.cfg"
	wait_for_port "$FE"
	start_tunnels 50
	local old=$DAEMON_PID
	start_new new -f "$LOGDIR/w.cfg" -dS -sf "$old"
	wait_for_log "$LOGDIR/wsplice.log" "50 spliced tunnels stay here"
	# HAProxy's behaviour: the old process stays for its tunnels, accepting nothing
	sleep 1
	kill -0 "$old"
	[ "$(info Pid)" -eq "$NEW_PID" ]
	[ "$(info CurrTunnels)" -eq 0 ]
	run timeout 20 $PATTERN client "127.0.0.1:$FE" --conns 1 --until /
	[ "$status" -eq 0 ]
	end_tunnels
	wait_until 10 "! kill -0 $old"
	[ "$(grep -c ' 101 ' "$LOGDIR/wsplice.log")" -eq 50 ]
	check_log_bytes "$LOGDIR/wsplice.log"
}

@test "reload: two in a row, the BPF objects follow each new process" {
	need_bpf bpf
	bg srv timeout 300 $PATTERN server "$WS"
	wait_for_port "$WS"
	reload_cfg "$LOGDIR/w.cfg"
	start_wsplice "$LOGDIR/w.cfg"
	wait_for_port "$FE"
	start_tunnels 100
	local first=$DAEMON_PID second
	start_new second -f "$LOGDIR/w.cfg" -sf "$first"
	second=$NEW_PID
	wait_until 5 "! kill -0 $first"
	start_new third -f "$LOGDIR/w.cfg" -sf "$second"
	wait_until 5 "! kill -0 $second"
	[ ! -e "/sys/fs/bpf/wsplice/$first" ]
	[ ! -e "/sys/fs/bpf/wsplice/$second" ]
	[ -e "/sys/fs/bpf/wsplice/$NEW_PID/wsplice_socks" ]
	[ "$(info SplicedTunnels)" -eq 100 ]
	end_tunnels
	wait_until 20 "[ \$(grep -c ' 101 ' $LOGDIR/third.log) -eq 100 ]"
	check_log_bytes "$LOGDIR/third.log"
}

@test "reload: a half-closed tunnel finishes its open direction in the new process" {
	local mode
	for mode in bpf user; do
		one_tunnel "$mode" 1h --recv 1000 --eof --send 200000 --interval 20 --chunk 1000
		bg hc timeout 60 "$STREAM" client "127.0.0.1:$FE" --send 1000 --shut \
			--recv 200000 --eof --timeout 30
		sleep 1.5
		start_new "new_$mode" -f "$LOGDIR/w.cfg" $(path_args "$mode") -sf "$DAEMON_PID"
		grep -q "took 1 tunnels" "$LOGDIR/new_$mode.log"
		wait "$hc_PID"
		grep -q "^ok sent=1000 recv=200000" "$LOGDIR/hc.log"
		wait_for_log "$LOGDIR/new_$mode.log" " 101 "
		stop_new
	done
}

@test "reload: a tunnel leaving the kernel for a slow reader moves once it has left" {
	local mode
	for mode in bpf user; do
		one_tunnel "$mode" 1h --send 268435456 --recv 16777216
		# 256 MiB to a reader of 64 MB/s: on the BPF path the tunnel leaves the kernel, and
		# user space holds bytes for it whenever the reload comes
		bg slow timeout 60 "$STREAM" client "127.0.0.1:$FE" --send 16777216 \
			--recv 268435456 --rate 64000000 --timeout 30
		sleep 0.4
		local old=$DAEMON_PID
		start_new "new_$mode" -f "$LOGDIR/w.cfg" $(path_args "$mode") -sf "$old"
		wait_until 5 "! kill -0 $old"
		wait_for_log "$LOGDIR/new_$mode.log" "took 1 tunnels"
		wait "$slow_PID"
		grep -q "^ok sent=16777216 recv=268435456" "$LOGDIR/slow.log"
		wait_for_log "$LOGDIR/new_$mode.log" " 101 268435[0-9]{3} 16777[0-9]{3} "
		stop_new
	done
}

@test "reload: an idle tunnel times out on its own clock, not the new process's" {
	local mode
	for mode in bpf user; do
		one_tunnel "$mode" 4s --eof
		bg idle timeout 60 "$STREAM" client "127.0.0.1:$FE" --eof --timeout 30
		sleep 3
		start_new "new_$mode" -f "$LOGDIR/w.cfg" $(path_args "$mode") -sf "$DAEMON_PID"
		grep -q "took 1 tunnels" "$LOGDIR/new_$mode.log"
		wait "$idle_PID"
		cat "$LOGDIR/idle.log"
		# 4 s after the tunnel opened; a timer restarted by the reload would say 7 s
		$PY -c 'import re,sys; s=float(re.search(r"eof_secs=([0-9.]+)", open(sys.argv[1]).read()).group(1)); sys.exit(not 3.5 < s < 5.5)' \
			"$LOGDIR/idle.log"
		wait_for_log "$LOGDIR/new_$mode.log" " 101 .* cD-- "
		stop_new
	done
}

@test "reload: a tunnel whose backend the new configuration dropped stays with the old process" {
	need_bpf bpf
	local ws2 old
	ws2=$(free_port)
	# each side streams 20 KB/s for 3 s
	bg srv timeout 60 "$STREAM" server "$WS" --send 60000 --recv 60000 --interval 50 \
		--chunk 1000 --timeout 30
	bg srv2 timeout 60 "$STREAM" server "$ws2" --send 60000 --recv 60000 --interval 50 \
		--chunk 1000 --timeout 30
	wait_for_port "$WS"
	wait_for_port "$ws2"
	reload_cfg "$LOGDIR/w.cfg"
	sed -i 's/^    default_backend websocket_servers/    use_backend kept if { path_beg \/kept }\n&/' \
		"$LOGDIR/w.cfg"
	printf 'backend kept\n    server k1 127.0.0.1:%s\n' "$ws2" >>"$LOGDIR/w.cfg"
	start_wsplice "$LOGDIR/w.cfg"
	wait_for_port "$FE"
	bg gone timeout 60 "$STREAM" client "127.0.0.1:$FE" --path /ws --send 60000 --recv 60000 \
		--interval 50 --chunk 1000 --timeout 30
	bg kept timeout 60 "$STREAM" client "127.0.0.1:$FE" --path /kept --send 60000 --recv 60000 \
		--interval 50 --chunk 1000 --timeout 30
	wait_until 10 '[ "$(info SplicedTunnels)" -eq 2 ]'
	old=$DAEMON_PID
	# the new configuration renames websocket_servers
	sed 's/websocket_servers/renamed_servers/' "$LOGDIR/w.cfg" >"$LOGDIR/w2.cfg"
	start_new new -f "$LOGDIR/w2.cfg" -sf "$old"
	grep -q "has no place in the new configuration; it stays with the old process" \
		"$LOGDIR/new.log"
	grep -q "took 1 tunnels" "$LOGDIR/new.log"
	wait_for_log "$LOGDIR/wsplice.log" "1 tunnels handed to the new process, 1 connections left"
	[ "$(info CurrTunnels)" -eq 1 ]
	kill -0 "$old"
	wait "$gone_PID"
	wait "$kept_PID"
	grep -q "^ok sent=60000 recv=60000" "$LOGDIR/gone.log"
	grep -q "^ok sent=60000 recv=60000" "$LOGDIR/kept.log"
	# each logged once, by the process that had it at its end
	wait_for_log "$LOGDIR/wsplice.log" "websocket_servers/s1 .* 101 "
	wait_for_log "$LOGDIR/new.log" "kept/k1 .* 101 "
	wait_until 5 "! kill -0 $old"
}

@test "reload: an HTTP request in flight is answered by the old process, which then exits" {
	bg slow timeout 60 $PY "$PEERS/slow_server.py" "$WS" 1.5
	wait_for_port "$WS"
	reload_cfg "$LOGDIR/w.cfg"
	start_wsplice "$LOGDIR/w.cfg"
	wait_for_port "$FE"
	bg req timeout 20 curl -sS "http://127.0.0.1:$FE/slow"
	sleep 0.5
	local old=$DAEMON_PID
	start_new new -f "$LOGDIR/w.cfg" -sf "$old"
	grep -q "1 connections left to finish here" "$LOGDIR/wsplice.log"
	wait "$req_PID"
	grep -q "^done 1$" "$LOGDIR/req.log"
	wait_until 5 "! kill -0 $old"
	grep -q '" 200 \|GET /slow' "$LOGDIR/wsplice.log"
}

@test "reload: without expose-fd listeners the old process refuses to hand anything over" {
	bg srv timeout 60 $PATTERN server "$WS"
	reload_cfg "$LOGDIR/w.cfg" "level admin"
	start_wsplice "$LOGDIR/w.cfg" -dS
	wait_for_port "$FE"
	run stats_cmd "_getsocks"
	[[ "$output" == "Permission denied"* ]]
	run stats_cmd "_gettunnels 1 0 1 1"
	[[ "$output" == "Permission denied"* ]]
	# as with HAProxy, the new process then cannot take the port: it says so and exits 1
	run timeout 20 "$WSPLICE" -db -f "$LOGDIR/w.cfg" -x "$STATS_SOCK"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the old process answered 'Permission denied'"* ]]
	[[ "$output" == *"cannot bind socket"* ]]
	# the old one still serves, and was not told to stop
	run timeout 20 $PATTERN client "127.0.0.1:$FE" --conns 1 --until /
	[ "$status" -eq 0 ]
	[ "$(info Pid)" -eq "$DAEMON_PID" ]
}

@test "reload: an operator-level socket cannot take descriptors either" {
	reload_cfg "$LOGDIR/w.cfg" "level operator expose-fd listeners"
	start_wsplice "$LOGDIR/w.cfg" -dS
	wait_for_port "$FE"
	run stats_cmd "_getsocks"
	[[ "$output" == "Permission denied"* ]]
}
