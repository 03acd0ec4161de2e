#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# The runtime API on the stats socket: every command, through the socket, on both data paths
# where tunnels matter, and the access levels.

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
	HTTP=$(free_port)
	bg http timeout 120 $PY -m http.server "$HTTP" --bind 127.0.0.1
	wait_for_port "$HTTP"
}

teardown() {
	common_teardown
	dump_logs
}

# tunnel_up MODE: the daemon on data path MODE with one streaming tunnel open (a slow reader
# keeps it alive for a while).
tunnel_up() {
	need_bpf "$1"
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HTTP"
	start_wsplice "$LOGDIR/w.cfg" $(path_args "$1")
	wait_for_port "$FE"
	# both sides send 64 KiB every 10 ms, for far longer than the test needs: a steady stream
	# that the readers keep up with, so the tunnel stays spliced
	bg server timeout 60 "$STREAM" server "$WS" --send $((128 << 20)) --recv $((128 << 20)) \
		--chunk 64K --interval 10
	wait_for_port "$WS"
	bg client timeout 60 "$STREAM" client "127.0.0.1:$FE" --send $((128 << 20)) --recv $((128 << 20)) \
		--chunk 64K --interval 10
	wait_until 10 '[ "$(info CurrTunnels)" -eq 1 ]'
}

@test "cli: show info, show stat CSV, show servers state" {
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HTTP"
	start_wsplice "$LOGDIR/w.cfg" -dS
	wait_for_port "$FE"
	run timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/"
	[ "$output" = 200 ]
	[ "$(info Name)" = wsplice ]
	[ "$(info Pid)" = "$DAEMON_PID" ]
	[ "$(info CumConns)" -ge 1 ]
	run stats_cmd "show stat"
	echo "$output"
	[ "${lines[0]:0:33}" = "# pxname,svname,qcur,qmax,scur,sm" ]
	# the request's bytes are counted on the frontend, the backend and the server
	local row
	row=$(echo "$output" | grep '^http_servers,h1,')
	[ "$(echo "$row" | cut -d, -f8)" -ge 1 ]	# stot
	[ "$(echo "$row" | cut -d, -f9)" -gt 0 ]	# bin
	[ "$(echo "$row" | cut -d, -f10)" -gt 0 ]	# bout
	echo "$output" | grep -q '^fe_main,FRONTEND,.*,OPEN,'
	echo "$output" | grep -q '^http_servers,BACKEND,.*,UP,'
	run stats_cmd "show servers state http_servers"
	echo "$output"
	[ "${lines[0]}" = 1 ]
	echo "$output" | grep -Eq "^[0-9]+ http_servers 1 h1 127\.0\.0\.1 2 0 1 1 [0-9]+ .* $HTTP -$"
	refute grep -q websocket_servers <<<"$output"
}

cli_tunnels() {
	tunnel_up "$1"
	local path=kernel
	[ "$1" = user ] && path=user
	run stats_cmd "show tunnels"
	echo "$output"
	echo "$output" | grep -Eq "^0x[0-9a-f]+ 127\.0\.0\.1:[0-9]+ fe_main websocket_servers/s1 $path [0-9]+ [0-9]+ [0-9]+$"
	run stats_cmd "show sess"
	echo "$output" | grep -q "fe=fe_main be=websocket_servers srv=s1 state=tunnel-$path"
	# counters move while the tunnel is open, not only at its end
	local b1 b2
	b1=$(stats_cmd "show stat" | grep '^websocket_servers,s1,' | cut -d, -f9)
	sleep 1.5
	b2=$(stats_cmd "show stat" | grep '^websocket_servers,s1,' | cut -d, -f9)
	echo "bin $b1 -> $b2"
	[ "$b2" -gt "$b1" ]
	# an admin kills the server's sessions: the tunnel ends, logged "KD"
	stats_cmd "shutdown sessions server websocket_servers/s1"
	wait_until 5 '[ "$(info CurrTunnels)" -eq 0 ]'
	wait_for_log "$LOGDIR/wsplice.log" 'websocket_servers/s1 .* 101 [0-9]+ - - KD-- '
	[ "$1" = user ] || [ "$(sock_map_count)" -eq 0 ]
	# scur is back to 0, smax remembers the tunnel
	local row
	row=$(stats_cmd "show stat" | grep '^websocket_servers,s1,')
	[ "$(echo "$row" | cut -d, -f5)" = 0 ]
	[ "$(echo "$row" | cut -d, -f6)" = 1 ]
}

@test "cli: show tunnels, show sess, live counters, shutdown sessions (bpf)" {
	cli_tunnels bpf
}

@test "cli: show tunnels, show sess, live counters, shutdown sessions (userspace)" {
	cli_tunnels user
}

@test "cli: shutdown session ID ends that one stream" {
	tunnel_up bpf
	local id
	id=$(stats_cmd "show sess" | sed -n 's/^\(0x[0-9a-f]*\):.*state=tunnel-kernel.*/\1/p' | head -n1)
	[ -n "$id" ]
	stats_cmd "shutdown session $id"
	wait_until 5 '[ "$(info CurrTunnels)" -eq 0 ]'
	run stats_cmd "shutdown session 0xdeadbeef"
	[[ "$output" == *"No such session"* ]]
}

@test "cli: disable/enable server and set server state/weight change routing" {
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HTTP"
	start_wsplice "$LOGDIR/w.cfg" -dS
	wait_for_port "$FE"
	stats_cmd "disable server http_servers/h1"
	stats_cmd "show stat" | grep -q '^http_servers,h1,.*,MAINT,'
	run timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/"
	[ "$output" = 503 ]
	stats_cmd "enable server http_servers/h1"
	run timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/"
	[ "$output" = 200 ]
	stats_cmd "set server http_servers/h1 state drain"
	stats_cmd "show stat" | grep -q '^http_servers,h1,.*,DRAIN,'
	run timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/"
	[ "$output" = 503 ]
	stats_cmd "set server http_servers/h1 state ready"
	stats_cmd "set server http_servers/h1 weight 7"
	[ "$(stats_cmd "show stat" | grep '^http_servers,h1,' | cut -d, -f19)" = 7 ]
	run stats_cmd "set server http_servers/h1 weight 300"
	[[ "$output" == *"Integer value between 0 and 256 expected."* ]]
	run stats_cmd "disable server http_servers/nope"
	[[ "$output" == *"No such server."* ]]
	run stats_cmd "bogus command"
	[[ "$output" == *"Unknown command."* ]]
}

@test "cli: levels: user may look, not act; operator sees sessions" {
	local lvl
	for lvl in user operator; do
		FE=$(free_port)
		std_cfg "$LOGDIR/$lvl.cfg" "$FE" "$WS" "$HTTP"
		sed -i "s/level admin/level $lvl/" "$LOGDIR/$lvl.cfg"
		start_wsplice "$LOGDIR/$lvl.cfg" -dS
		wait_for_port "$FE"
		[ "$(info Name)" = wsplice ]
		run stats_cmd "disable server http_servers/h1"
		[[ "$output" == *"Permission denied"* ]]
		stats_cmd "show stat" | grep -q '^http_servers,h1,.*,no check,'
		run stats_cmd "show sess"
		if [ "$lvl" = user ]; then
			[[ "$output" == *"Permission denied"* ]]
		else
			[[ "$output" != *"Permission denied"* ]]
		fi
		run stats_cmd "help"
		refute grep -q "disable server" <<<"$output"
		stop_wsplice
	done
}

@test "cli: prompt keeps the session open for several commands" {
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HTTP"
	start_wsplice "$LOGDIR/w.cfg" -dS
	wait_for_port "$FE"
	run bash -c "printf 'prompt\nshow info\nshow stat\nquit\n' | timeout 5 socat -t 5 - UNIX-CONNECT:$STATS_SOCK"
	echo "$output"
	[[ "$output" == *"Name: wsplice"* ]]
	[[ "$output" == *"# pxname,svname"* ]]
	[[ "$output" == *"> "* ]]
}
