#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Giving up root: "user"/"group" (and "uid"/"gid"), "chroot". After the drop the daemon has no
# capability left (docs/management.md, "Privileges": on this kernel bpf() on the map fds it
# already holds needs none), still splices tunnels through the kernel, and still removes its pins
# at exit. Tunnels run on both data paths.

setup_file() {
	load helpers
	build_peers
}

setup() {
	load helpers
	common_setup
	need_daemon
	[ "$(id -u)" = 0 ] || skip "dropping privileges needs root to start with"
	getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
		skip "no user nobody or group nogroup on this machine"
	FE=$(free_port)
	WS=$(free_port)
	HT=$(free_port)
	NOBODY=$(id -u nobody)
	NOGROUP=$(getent group nogroup | cut -d: -f3)
}

teardown() {
	common_teardown
	dump_logs
}

# status_field PID NAME: the value of NAME in /proc/PID/status, whitespace squeezed.
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s '[:space:]' ' ' | sed 's/ $//'
}

# dropped_ok: the daemon runs as nobody:nogroup, without supplementary groups or capabilities.
dropped_ok() {
	# the listeners accept (in the kernel's backlog) before the drop: wait for its notice
	wait_for_log "${DAEMON_LOG:-$LOGDIR/wsplice.log}" "running as uid $NOBODY gid $NOGROUP"
	echo "Uid=$(status_field "$DAEMON_PID" Uid) Gid=$(status_field "$DAEMON_PID" Gid)" \
		"Groups='$(status_field "$DAEMON_PID" Groups)'" \
		"CapEff=$(status_field "$DAEMON_PID" CapEff) CapPrm=$(status_field "$DAEMON_PID" CapPrm)"
	[ "$(status_field "$DAEMON_PID" Uid)" = "$NOBODY $NOBODY $NOBODY $NOBODY" ]
	[ "$(status_field "$DAEMON_PID" Gid)" = "$NOGROUP $NOGROUP $NOGROUP $NOGROUP" ]
	[ -z "$(status_field "$DAEMON_PID" Groups)" ]
	[ "$(status_field "$DAEMON_PID" CapEff)" = 0000000000000000 ]
	[ "$(status_field "$DAEMON_PID" CapPrm)" = 0000000000000000 ]
}

# tunnel_after_drop MODE: a 2 MiB tunnel each way, sent in 16 KiB chunks every 20 ms so that it
# is still open while the counters are read, through a daemon that dropped to nobody.
tunnel_after_drop() {
	need_bpf "$1"
	local size=$((2 * 1024 * 1024)) kb0 ub0 kb1 ub1
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT" 1h "    user nobody
    group nogroup"
	start_wsplice "$LOGDIR/w.cfg" $(path_args "$1")
	wait_for_port "$FE"
	expect_splice_mode "$1"
	dropped_ok
	kb0=$(info KernelBytes)
	ub0=$(info UserRelayBytes)
	bg srv timeout 120 "$STREAM" server "$WS" --timeout 20 --send "$size" --recv "$size" \
		--interval 20 --chunk 16384
	wait_for_port "$WS"
	bg cli timeout 120 "$STREAM" client "127.0.0.1:$FE" --timeout 20 --send "$size" \
		--recv "$size" --interval 20 --chunk 16384
	wait_until 10 '[ "$(info CurrTunnels)" -ge 1 ]'
	if [ "$1" = bpf ]; then
		[ "$(info SplicedTunnels)" -ge 1 ]
		wait_until 10 '[ "$(info KernelBytes)" -gt "$kb0" ]'
	else
		[ "$(info SplicedTunnels)" -eq 0 ]
	fi
	wait "$cli_PID"
	wait "$srv_PID"
	echo "client: $(cat "$LOGDIR/cli.log") server: $(cat "$LOGDIR/srv.log")"
	grep -q "^ok sent=$size recv=$size" "$LOGDIR/cli.log"
	grep -q "^ok sent=$size recv=$size" "$LOGDIR/srv.log"
	kb1=$(info KernelBytes)
	ub1=$(info UserRelayBytes)
	echo "KernelBytes $kb0 -> $kb1, UserRelayBytes $ub0 -> $ub1"
	if [ "$1" = bpf ]; then
		# both directions went through the kernel, but for bytes that came with the 101
		[ $((kb1 - kb0)) -ge $((2 * size - 65536)) ]
	else
		[ $((ub1 - ub0)) -eq $((2 * size)) ]
		[ "$kb1" -eq 0 ]
	fi
	dropped_ok
	local pins
	pins=$(pin_dir)
	if [ "$1" = bpf ]; then
		[ "$(stat -c %u "$pins")" = "$NOBODY" ]
	fi
	stop_wsplice
	[ ! -e "$pins" ]
}

@test "privileges: user nobody, group nogroup: no capability left, tunnels spliced by the kernel" {
	tunnel_after_drop bpf
}

@test "privileges: user nobody, group nogroup: tunnels relayed in user space (-dS)" {
	tunnel_after_drop user
}

@test "privileges: uid and gid as numbers, as user and group" {
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT" 1h "    uid $NOBODY
    gid $NOGROUP"
	start_wsplice "$LOGDIR/w.cfg" -dS
	wait_for_port "$FE"
	dropped_ok
}

@test "privileges: chroot: the daemon's root is the jail, it serves, its pins go at exit" {
	# LeakSanitizer reads /proc/PID/task at exit, which the chroot hides (SANITIZE=1 builds):
	# the leak check runs in every other test
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	need_bpf bpf
	mkdir "$LOGDIR/jail"
	bg http timeout 120 $PY -m http.server "$HT" --bind 127.0.0.1
	wait_for_port "$HT"
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT" 1h "    user nobody
    group nogroup
    chroot $LOGDIR/jail"
	start_wsplice "$LOGDIR/w.cfg"
	wait_for_port "$FE"
	expect_splice_mode bpf
	[ "$(readlink "/proc/$DAEMON_PID/root")" = "$LOGDIR/jail" ]
	dropped_ok
	run timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/"
	[ "$output" = 200 ]
	wait_for_log "$LOGDIR/wsplice.log" 'fe_main http_servers/h1 .* 200 '
	# the stats map is still read from inside the jail (libbpf's CPU count was cached before)
	info KernelBytes
	local pins
	pins=$(pin_dir)
	[ -d "$pins" ]
	stop_wsplice
	[ ! -e "$pins" ]
}

@test "privileges: a chroot that does not exist stops the start with status 1" {
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT" 1h "    chroot $LOGDIR/no-such-dir"
	run timeout 10 "$WSPLICE" -db -f "$LOGDIR/w.cfg" 3>&-
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Cannot chroot($LOGDIR/no-such-dir): No such file or directory"* ]]
}

@test "privileges: an unknown user or group, or a uid that is not a number, is a config error" {
	std_cfg "$LOGDIR/u.cfg" "$FE" "$WS" "$HT" 1h "    user no-such-user-here"
	run timeout 5 "$WSPLICE" -c -f "$LOGDIR/u.cfg"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"parsing [$LOGDIR/u.cfg:4] : cannot find user id for 'no-such-user-here'"* ]]
	std_cfg "$LOGDIR/g.cfg" "$FE" "$WS" "$HT" 1h "    group no-such-group-here"
	run timeout 5 "$WSPLICE" -c -f "$LOGDIR/g.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"parsing [$LOGDIR/g.cfg:4] : cannot find group id for 'no-such-group-here'"* ]]
	std_cfg "$LOGDIR/n.cfg" "$FE" "$WS" "$HT" 1h "    uid 12x"
	run timeout 5 "$WSPLICE" -c -f "$LOGDIR/n.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"parsing [$LOGDIR/n.cfg:4] : 'uid' expects an integer argument."* ]]
}

@test "privileges: a second user line is HAProxy's warning and the first one stays" {
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT" 1h "    user nobody
    uid 0"
	run timeout 5 "$WSPLICE" -c -f "$LOGDIR/w.cfg"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"[WARNING]"*"parsing [$LOGDIR/w.cfg:5] : user/uid already specified. Continuing."* ]]
	start_wsplice "$LOGDIR/w.cfg" -dS
	wait_for_port "$FE"
	wait_until 5 '[ "$(status_field "$DAEMON_PID" Uid)" = "$NOBODY $NOBODY $NOBODY $NOBODY" ]'
}

@test "privileges: on this kernel bpf() on held map fds, SO_RCVLOWAT and SO_COOKIE need no capability" {
	# the measurement of docs/management.md, "Privileges", repeated on the kernel under test
	run timeout 20 "$OUT/bpf_unpriv" "$NOBODY" "$NOGROUP"
	echo "kernel $(uname -r), unprivileged_bpf_disabled=$(cat /proc/sys/kernel/unprivileged_bpf_disabled 2>/dev/null)"
	echo "$output"
	[ "$status" -ne 2 ]
	[[ "$output" == *"CapEff:	0000000000000000"* ]]
	if [ "$status" -ne 0 ]; then
		# an older kernel: privs.c then keeps CAP_BPF; the daemon tests above show whether
		# that was enough
		skip "this kernel refuses some of it without capabilities (see output)"
	fi
	[ "$(grep -c ': ok$' <<<"$output")" -eq 8 ]
}

@test "privileges: a reload (-x) from a process that dropped root: the tunnel moves, the pins go at the end" {
	need_bpf bpf
	local size=$((1024 * 1024)) old new
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT" 1h "    user nobody
    group nogroup"
	sed -i 's/level admin$/level admin expose-fd listeners/' "$LOGDIR/w.cfg"
	start_wsplice "$LOGDIR/w.cfg"
	wait_for_port "$FE"
	expect_splice_mode bpf
	dropped_ok
	old=$DAEMON_PID
	bg srv timeout 120 "$STREAM" server "$WS" --timeout 20 --send "$size" --recv "$size" \
		--interval 20 --chunk 8192
	wait_for_port "$WS"
	bg cli timeout 120 "$STREAM" client "127.0.0.1:$FE" --timeout 20 --send "$size" \
		--recv "$size" --interval 20 --chunk 8192
	wait_until 10 '[ "$(info SplicedTunnels)" -ge 1 ]'

	bg new timeout 120 "$WSPLICE" -d -f "$LOGDIR/w.cfg" -p "$LOGDIR/new.pid" \
		-x "$STATS_SOCK" -sf "$old"
	wait_until 10 '[ -s "$LOGDIR/new.pid" ]'
	new=$(head -n1 "$LOGDIR/new.pid")
	# teardown stops it too (timeout(1) would not, were it stuck at exit: start_wsplice)
	PIDS+=("$new")
	wait_until 10 '! kill -0 '"$old"' 2>/dev/null'
	DAEMON_PID=$new
	DAEMON_LOG=$LOGDIR/new.log dropped_ok
	grep -q "took the BPF objects of process $old" "$LOGDIR/new.log"
	[ "$(info SplicedTunnels)" -ge 1 ]
	[ ! -e "/sys/fs/bpf/wsplice/$old" ]
	[ "$(stat -c %u "/sys/fs/bpf/wsplice/$new")" = "$NOBODY" ]
	wait "$cli_PID"
	wait "$srv_PID"
	grep -q "^ok sent=$size recv=$size" "$LOGDIR/cli.log"
	grep -q "^ok sent=$size recv=$size" "$LOGDIR/srv.log"
	kill -TERM "$new"
	wait "$new_PID"
	[ ! -e "/sys/fs/bpf/wsplice/$new" ]
	[ ! -e "/sys/fs/bpf/wsplice/$old" ]
	refute grep -q "cannot remove" "$LOGDIR/wsplice.log" "$LOGDIR/new.log"
}
