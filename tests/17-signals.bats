#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Process management as HAProxy: SIGTTOU/SIGTTIN pause and resume the listeners, hard-stop-after
# ends a soft stop that lasts, the global "daemon" and "pidfile" keywords, and systemd's
# sd_notify protocol spoken to a fake NOTIFY_SOCKET (tests/peers/notify_recv.py).

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
	bg http timeout 120 $PY -m http.server "$HT" --bind 127.0.0.1
	wait_for_port "$HT"
}

teardown() {
	common_teardown
	dump_logs
}

# http_code: the status of GET / through the frontend, or 000 when the connection fails.
http_code() {
	timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/" || true
}

# port_bound_by_us: true when a plain bind() of the frontend's port fails with EADDRINUSE.
port_bound_by_us() {
	$PY -c '
import errno, socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError as e:
    sys.exit(0 if e.errno == errno.EADDRINUSE else 2)
sys.exit(1)' "$FE"
}

# pause_resume MODE: SIGTTOU refuses new clients while the port stays bound and an open tunnel
# goes on; SIGTTIN accepts again.
pause_resume() {
	need_bpf "$1"
	local size=$((1024 * 1024))
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT"
	start_wsplice "$LOGDIR/w.cfg" $(path_args "$1")
	wait_for_port "$FE"
	expect_splice_mode "$1"
	bg srv timeout 120 "$STREAM" server "$WS" --timeout 20 --send "$size" --recv "$size" \
		--interval 20 --chunk 16384
	wait_for_port "$WS"
	bg cli timeout 120 "$STREAM" client "127.0.0.1:$FE" --timeout 20 --send "$size" \
		--recv "$size" --interval 20 --chunk 16384
	wait_until 10 '[ "$(info CurrTunnels)" -ge 1 ]'

	kill -TTOU "$DAEMON_PID"
	wait_for_log "$LOGDIR/wsplice.log" "Paused proxy fe_main\\."
	[ "$(http_code)" = 000 ]
	port_bound_by_us
	# the stats socket still answers, and the tunnel is still there
	[ "$(info CurrTunnels)" -ge 1 ]

	kill -TTIN "$DAEMON_PID"
	wait_for_log "$LOGDIR/wsplice.log" "Resumed proxy fe_main\\."
	[ "$(http_code)" = 200 ]
	wait "$cli_PID"
	wait "$srv_PID"
	grep -q "^ok sent=$size recv=$size" "$LOGDIR/cli.log"
	grep -q "^ok sent=$size recv=$size" "$LOGDIR/srv.log"
	stop_wsplice
}

@test "signals: SIGTTOU pauses the listeners (bound, refusing), SIGTTIN resumes; tunnels go on (bpf)" {
	pause_resume bpf
}

@test "signals: SIGTTOU pauses the listeners (bound, refusing), SIGTTIN resumes; tunnels go on (user)" {
	pause_resume user
}

# a tunnel that trickles for minutes: the soft stop cannot finish by itself
long_tunnel() {
	bg srv timeout 120 "$STREAM" server "$WS" --timeout 60 --recv 10000000
	wait_for_port "$WS"
	bg cli timeout 120 "$STREAM" client "127.0.0.1:$FE" --timeout 60 --send 10000000 \
		--interval 100 --chunk 100
	wait_until 10 '[ "$(info CurrTunnels)" -ge 1 ]'
}

@test "signals: hard-stop-after ends a soft stop that lasts, with HAProxy's warning" {
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT" 1h "    hard-stop-after 2s"
	start_wsplice "$LOGDIR/w.cfg"
	wait_for_port "$FE"
	long_tunnel
	local t0 ms rc=0
	t0=$(date +%s%N)
	kill -USR1 "$DAEMON_PID"
	wait_for_log "$LOGDIR/wsplice.log" "soft stop: no longer accepting"
	# still there with its tunnel until the 2 s are up
	kill -0 "$DAEMON_PID"
	wait "$wsplice_PID" || rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "exited with status $rc after $ms ms"
	[ "$rc" -eq 0 ]
	[ "$ms" -ge 1900 ] && [ "$ms" -lt 15000 ]
	grep -q "soft-stop running for too long, performing a hard-stop\\." "$LOGDIR/wsplice.log"
	grep -q "hard-stop: 1 remaining connections will be closed\\." "$LOGDIR/wsplice.log"
	# the client saw its tunnel end before it was done
	refute wait "$cli_PID"
}

@test "signals: without hard-stop-after a soft stop waits for the tunnel" {
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT"
	start_wsplice "$LOGDIR/w.cfg"
	wait_for_port "$FE"
	long_tunnel
	kill -USR1 "$DAEMON_PID"
	wait_for_log "$LOGDIR/wsplice.log" "soft stop: no longer accepting"
	sleep 3
	kill -0 "$DAEMON_PID"
	refute grep -q "hard-stop" "$LOGDIR/wsplice.log"
}

# HAProxy's "busy-polling": epoll_wait() never sleeps, so the daemon takes its CPU whole even
# with nothing to do, and serves as usual; an old process finishing its connections stops it.
@test "signals: busy-polling takes a whole CPU and serves; a soft stop turns it off, as HAProxy's" {
	local ticks
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT" 1h "    busy-polling"
	start_wsplice "$LOGDIR/w.cfg"
	wait_for_port "$FE"
	[ "$(info BusyPolling)" -eq 1 ]
	[ "$(http_code)" = 200 ]
	long_tunnel
	# 100 ticks a second is a whole CPU; a loaded machine gives a spinning process less, a
	# sleeping one (below, or any daemon without the keyword) spends 0 to 2 here
	ticks=$(cpu_ticks_over "$DAEMON_PID" 1)
	echo "busy polling: $ticks ticks in 1 s"
	[ "$ticks" -ge 20 ]

	kill -USR1 "$DAEMON_PID"
	wait_for_log "$LOGDIR/wsplice.log" "soft stop: no longer accepting"
	[ "$(info BusyPolling)" -eq 0 ]
	ticks=$(cpu_ticks_over "$DAEMON_PID" 1)
	echo "stopping, with a tunnel open: $ticks ticks in 1 s"
	[ "$ticks" -le 10 ]
	kill -0 "$DAEMON_PID"
}

@test "signals: global daemon and pidfile: the command returns once the daemon started, its pidfile written" {
	need_bpf bpf
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT" 1h "    daemon
    pidfile $LOGDIR/d.pid"
	local rc=0 pid pins
	timeout 10 "$WSPLICE" -f "$LOGDIR/w.cfg" >"$LOGDIR/wsplice.log" 2>&1 3>&- || rc=$?
	[ "$rc" -eq 0 ]
	# the parent returned once the child was started: its pidfile is there
	[ -s "$LOGDIR/d.pid" ]
	pid=$(head -n1 "$LOGDIR/d.pid")
	PIDS+=("$pid")
	DAEMON_PID=$pid
	kill -0 "$pid"
	wait_for_port "$FE"
	[ "$(http_code)" = 200 ]
	# the pins carry the daemon's pid, not the parent's that exited
	pins=$(pin_dir)
	[ -d "$pins" ]
	kill -TERM "$pid"
	# its parent is whatever adopted it, which may reap late: a zombie is gone enough
	wait_until 10 '[ ! -e /proc/$pid ] || [ "$(awk "{print \$3}" /proc/$pid/stat)" = Z ]'
	[ ! -e "$pins" ]
	[ ! -e "$LOGDIR/d.pid" ]
}

@test "signals: -D reports a bind failure in its exit status" {
	# a listening socket that does not share its port
	bg taken timeout 60 $PY -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
time.sleep(60)' "$FE"
	wait_for_port "$FE"
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT"
	local rc=0
	timeout 10 "$WSPLICE" -D -p "$LOGDIR/d.pid" -f "$LOGDIR/w.cfg" >"$LOGDIR/wsplice.log" 2>&1 3>&- || rc=$?
	cat "$LOGDIR/wsplice.log"
	[ "$rc" -eq 1 ]
	grep -q "Starting frontend fe_main: cannot bind socket" "$LOGDIR/wsplice.log"
	[ ! -e "$LOGDIR/d.pid" ]
}

@test "signals: -D reports a failure after the fork (a chroot that does not exist) in its exit status" {
	[ "$(id -u)" = 0 ] || skip "chroot needs root"
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT" 1h "    chroot $LOGDIR/no-such-dir"
	local rc=0
	timeout 10 "$WSPLICE" -D -f "$LOGDIR/w.cfg" >"$LOGDIR/wsplice.log" 2>&1 3>&- || rc=$?
	cat "$LOGDIR/wsplice.log"
	[ "$rc" -eq 1 ]
	grep -q "Cannot chroot($LOGDIR/no-such-dir)" "$LOGDIR/wsplice.log"
	refute wait_for_port "$FE" 1
}

# notify_start SOCKET: the fake notify socket in the background ($LOGDIR/notify.log).
notify_start() {
	bg notify timeout 120 $PY "$PEERS/notify_recv.py" "$1" "$FE"
	wait_for_log "$LOGDIR/notify.log" "^listening$"
}

@test "sd_notify: READY=1 and MAINPID once the listeners accept, STOPPING=1 on SIGTERM" {
	notify_start "$LOGDIR/notify.sock"
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT"
	NOTIFY_SOCKET=$LOGDIR/notify.sock start_wsplice "$LOGDIR/w.cfg"
	wait_for_log "$LOGDIR/notify.log" "^pid=$DAEMON_PID port="
	cat "$LOGDIR/notify.log"
	grep -q "^pid=$DAEMON_PID READY=1$" "$LOGDIR/notify.log"
	grep -q "^pid=$DAEMON_PID MAINPID=$DAEMON_PID$" "$LOGDIR/notify.log"
	grep -q "^pid=$DAEMON_PID port=open$" "$LOGDIR/notify.log"
	refute grep -q "STOPPING=1" "$LOGDIR/notify.log"
	stop_wsplice
	wait_for_log "$LOGDIR/notify.log" "^pid=$DAEMON_PID STOPPING=1$"
}

@test "sd_notify: an abstract NOTIFY_SOCKET (@name); after a chroot and user drop STOPPING=1 still arrives" {
	[ "$(id -u)" = 0 ] || skip "the privilege drop needs root"
	# LeakSanitizer reads /proc/PID/task at exit, which the chroot hides (SANITIZE=1 builds):
	# the leak check runs in every other test
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	local name="@wsplice-test-$$-$RANDOM"
	notify_start "$name"
	mkdir "$LOGDIR/jail"
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT" 1h "    user nobody
    chroot $LOGDIR/jail"
	NOTIFY_SOCKET=$name start_wsplice "$LOGDIR/w.cfg" -dS
	wait_for_log "$LOGDIR/notify.log" "^pid=$DAEMON_PID READY=1$"
	wait_for_log "$LOGDIR/wsplice.log" "running as uid"
	stop_wsplice
	wait_for_log "$LOGDIR/notify.log" "^pid=$DAEMON_PID STOPPING=1$"
}

@test "sd_notify: a reload with -sf says RELOADING=1 then READY=1 with the new MAINPID; the old one does not say STOPPING=1" {
	notify_start "$LOGDIR/notify.sock"
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT"
	NOTIFY_SOCKET=$LOGDIR/notify.sock start_wsplice "$LOGDIR/w.cfg" -dS
	wait_for_log "$LOGDIR/notify.log" "^pid=$DAEMON_PID READY=1$"
	local old=$DAEMON_PID old_wrapper=$wsplice_PID new
	# as HAProxy's reload: the old process stops listening (SIGTTOU) so that the new one can bind
	kill -TTOU "$old"
	wait_for_log "$LOGDIR/wsplice.log" "Paused proxy fe_main\\."
	NOTIFY_SOCKET=$LOGDIR/notify.sock bg new timeout 60 "$WSPLICE" -d -dS -f "$LOGDIR/w.cfg" \
		-p "$LOGDIR/new.pid" -sf "$old"
	wait_until 10 '[ -s "$LOGDIR/new.pid" ]'
	new=$(head -n1 "$LOGDIR/new.pid")
	# teardown stops it too (timeout(1) would not, were it stuck at exit: start_wsplice)
	PIDS+=("$new")
	wait "$old_wrapper"
	wait_for_log "$LOGDIR/notify.log" "^pid=$new MAINPID=$new$"
	cat "$LOGDIR/notify.log"
	grep -q "^pid=$new RELOADING=1$" "$LOGDIR/notify.log"
	grep -q "^pid=$new READY=1$" "$LOGDIR/notify.log"
	# RELOADING=1 comes first
	[ "$(grep -n "^pid=$new RELOADING=1$" "$LOGDIR/notify.log" | cut -d: -f1)" -lt \
		"$(grep -n "^pid=$new READY=1$" "$LOGDIR/notify.log" | cut -d: -f1)" ]
	refute grep -q "^pid=$old STOPPING=1" "$LOGDIR/notify.log"
	[ "$(http_code)" = 200 ]
}
