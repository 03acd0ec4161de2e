# SPDX-License-Identifier: GPL-2.0
# Shared by every tests/*.bats file: loaded from setup(). Functions here start real processes on
# ephemeral loopback ports, remember their pids and stop them in teardown.

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
WSPLICE=${WSPLICE:-$TOP/wsplice}
# Debian's python3 has python3-websockets; a python3 earlier on PATH (pyenv) may not.
PY=/usr/bin/python3
PEERS=$TOP/tests/peers
PIDS=()

common_setup() {
	PIDS=()
	LOGDIR=$BATS_TEST_TMPDIR
}

# Kills every process started with bg, then checks the daemon did not crash (a core or a
# sanitizer report would have been printed in its log).
common_teardown() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
	done
	PIDS=()
}

# bg NAME CMD...: runs CMD in the background with output in $LOGDIR/NAME.log, records its pid
# in PIDS and in the variable NAME_PID.
bg() {
	local name=$1
	shift
	"$@" >"$LOGDIR/$name.log" 2>&1 3>&- &
	local pid=$!
	PIDS+=("$pid")
	printf -v "${name}_PID" '%s' "$pid"
}

# free_port: a free TCP port on 127.0.0.1.
#
# Taken below the kernel's ephemeral range (32768 and up by default), so that no outgoing
# connection (the daemon's to its servers) can take it as a source port before the test binds
# it, and never twice in one test (the ports handed out are remembered in the test's dir).
free_port() {
	$PY - "${BATS_TEST_TMPDIR:-/tmp}/.ports" <<'PYEOF'
import os, random, socket, sys
used_file = sys.argv[1]
used = set(open(used_file).read().split()) if os.path.exists(used_file) else set()
for _ in range(1000):
    port = random.randrange(20000, 32000)
    if str(port) in used:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    with open(used_file, "a") as f:
        f.write("%d\n" % port)
    print(port)
    break
PYEOF
}

# wait_for_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_for_port() {
	local port=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "nothing listens on port $port after ${secs}s" >&2
	return 1
}

# wait_for_log FILE REGEX [SECONDS]: until a line of FILE matches REGEX.
wait_for_log() {
	local file=$1 re=$2 secs=${3:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "no line matching '$re' in $file after ${secs}s:" >&2
	cat "$file" >&2
	return 1
}

# write_cfg FILE: writes standard input to FILE, for heredoc configs.
write_cfg() {
	cat >"$1"
}

# start_wsplice CFG [ARGS...]: runs wsplice -d in the background (log in $LOGDIR/wsplice.log)
# with -p $LOGDIR/wsplice.pid, and waits for that pidfile. DAEMON_PID is the daemon's own pid,
# read from the pidfile (wsplice_PID is the pid of the timeout wrapper).
start_wsplice() {
	local cfg=$1 i
	shift
	rm -f "$LOGDIR/wsplice.pid"
	DAEMON_PID=
	bg wsplice timeout 600 "$WSPLICE" -d -p "$LOGDIR/wsplice.pid" -f "$cfg" "$@"
	for ((i = 0; i < 200; i++)); do
		if [ -s "$LOGDIR/wsplice.pid" ]; then
			DAEMON_PID=$(head -n1 "$LOGDIR/wsplice.pid")
			# teardown stops the daemon itself too: a sanitizer build that hangs at exit
			# (LeakSanitizer's tracer, seen under load) must not outlive its test
			PIDS+=("$DAEMON_PID")
			return 0
		fi
		kill -0 "$wsplice_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "wsplice wrote no pidfile $LOGDIR/wsplice.pid; its log:" >&2
	cat "$LOGDIR/wsplice.log" >&2
	return 1
}

# Everything below serves the end-to-end suites (20-handshake, 30-splice, 40-load).

OUT=$TOP/tests/out
STREAM=$OUT/stream

# build_peers: compiles the C peers into tests/out (from setup_file).
build_peers() {
	timeout 60 make -s -C "$PEERS" OUT="$OUT" >&2
}

# need_daemon: fails the test early, with the reason, when ./wsplice was not built.
need_daemon() {
	[ -x "$WSPLICE" ] || {
		echo "$WSPLICE is missing: run make first" >&2
		return 1
	}
}

# path_args MODE: the wsplice arguments that select the data path, MODE bpf or user.
path_args() {
	case $1 in
	bpf) ;;
	user) echo "-dS" ;;
	*)
		echo "path_args: unknown data path '$1'" >&2
		return 1
		;;
	esac
}

# need_bpf MODE: for MODE bpf, skips the test when this machine cannot splice with BPF.
need_bpf() {
	[ "$1" = bpf ] || return 0
	[ "$(id -u)" = 0 ] || skip "the BPF data path needs root"
	[ -d /sys/fs/bpf ] || skip "no bpffs at /sys/fs/bpf"
	command -v bpftool >/dev/null || skip "bpftool is not installed"
}

# HAProxy's httplog with the bytes received from the client (%U) after those sent (%B), for the
# tests that count both ways: "... %ST %B %U %tsc ...".
LOGFMT_U='%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %U %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %{+Q}r'

# cfg_head FILE [KEY=VALUE...] <<EOF: writes FILE: the global and defaults sections most tests
# share, then standard input (the frontends and backends, what is particular to the test). A stats
# socket is at $LOGDIR/wsplice.sock, set in STATS_SOCK. Each key changes one line of that head:
#   log=TARGET      global "log TARGET"                      (stdout format raw local0)
#   stats=OPTS      global "stats socket $STATS_SOCK OPTS"   (mode 600 level admin)
#   mode=MODE       defaults "mode MODE"                     (http)
#   log-format=FMT  defaults 'log-format "FMT"' in place of "option httplog"
#   connect=T       defaults "timeout connect T"             (5s)
#   tunnel=T        defaults "timeout tunnel T"              (none)
# log=, stats= and httplog= given empty leave their line out ("httplog=": the frontends choose).
# global=LINES and defaults=LINES add whole lines, indented, at the end of their section.
cfg_head() {
	local file=$1 arg val log='stdout format raw local0' stats='mode 600 level admin' mode=http
	local httplog='option httplog' connect=5s tunnel= global= defaults=
	shift
	for arg; do
		val=${arg#*=}
		case $arg in
		log=*) log=$val ;;
		stats=*) stats=$val ;;
		mode=*) mode=$val ;;
		httplog=) httplog= ;;
		log-format=*) httplog="log-format \"$val\"" ;;
		connect=*) connect=$val ;;
		tunnel=*) tunnel=$val ;;
		global=*) global=$val ;;
		defaults=*) defaults=$val ;;
		*)
			echo "cfg_head: unknown argument '$arg'" >&2
			return 1
			;;
		esac
	done
	[ -z "$stats" ] || STATS_SOCK=$LOGDIR/wsplice.sock
	{
		echo global
		[ -z "$log" ] || echo "    log $log"
		[ -z "$stats" ] || echo "    stats socket $STATS_SOCK $stats"
		[ -z "$global" ] || printf '%s\n' "$global"
		echo defaults
		echo "    mode $mode"
		echo "    log global"
		[ -z "$httplog" ] || echo "    $httplog"
		echo "    timeout connect $connect"
		echo "    timeout client 30s"
		echo "    timeout server 30s"
		[ -z "$tunnel" ] || echo "    timeout tunnel $tunnel"
		[ -z "$defaults" ] || printf '%s\n' "$defaults"
		cat
	} >"$file"
}

# std_cfg FILE FE_PORT WS_PORT HTTP_PORT [TUNNEL_TIMEOUT] [GLOBAL_EXTRA] [FRONTEND_EXTRA]: the
# usual two-backend configuration, stats socket at $LOGDIR/wsplice.sock (set in STATS_SOCK).
std_cfg() {
	local file=$1 fe=$2 ws=$3 http=$4 tunnel=${5:-1h} gextra=${6:-} fextra=${7:-}
	cfg_head "$file" tunnel="$tunnel" global="$gextra" <<EOF
frontend fe_main
    bind 127.0.0.1:$fe
    use_backend websocket_servers if { path_beg /ws }
    default_backend http_servers
$fextra
backend websocket_servers
    option http-server-close
    server s1 127.0.0.1:$ws
backend http_servers
    server h1 127.0.0.1:$http
EOF
}

# stats_cmd CMD: sends one command to the stats socket $STATS_SOCK, prints the answer.
stats_cmd() {
	echo "$1" | timeout 5 socat -t 5 - "UNIX-CONNECT:$STATS_SOCK"
}

# info FIELD: the value of FIELD in "show info".
info() {
	local v
	v=$(stats_cmd "show info" | sed -n "s/^$1: *//p" | tr -d '\r')
	[ -n "$v" ] || {
		echo "show info has no field $1" >&2
		return 1
	}
	echo "$v"
}

# expect_splice_mode MODE: the daemon reports the data path the test asked for (bpf or user),
# so that a silent fallback cannot pass a BPF test on the userspace path.
expect_splice_mode() {
	local want=$1 got
	[ "$want" = user ] && want=userspace
	got=$(info SpliceMode) || return 1
	[ "$got" = "$want" ] || {
		echo "SpliceMode is '$got', the test wants '$want'; daemon log:" >&2
		cat "$LOGDIR/wsplice.log" >&2
		return 1
	}
}

# rss_kib PID: resident memory of PID in KiB (VmRSS).
rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# cpu_ticks_over PID SECS: the clock ticks of CPU time PID uses over the next SECS seconds.
cpu_ticks_over() {
	local c0
	c0=$(cpu_ticks "$1")
	sleep "$2"
	echo $(($(cpu_ticks "$1") - c0))
}

# cpu_ticks PID: user + system CPU time of PID, in clock ticks (getconf CLK_TCK a second).
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# sanitizer_build: true when ./wsplice was built with SANITIZE=1 (AddressSanitizer).
sanitizer_build() {
	ldd "$WSPLICE" 2>/dev/null | grep -q libasan
}

# rss_ok KIB LIMIT_KIB: true when the daemon's RSS KIB is below LIMIT_KIB. On a sanitizer build
# (make test SANITIZE=1) the bound measures ASan's allocator, not ours (its quarantine keeps freed
# memory, its shadow counts in RSS: 380 MiB for 30-splice's bulk test), so it is not checked
# there, and the line says so; the plain build's run checks it.
rss_ok() {
	plain_bound_ok RSS "$1" "$2"
}

# kernel_ok KIB BOUND_KIB: the kernel memory a test saw grow (memwatch.py's MemAvailable drop less
# all processes' RSS growth) is under BOUND, except on a sanitizer build: there the RSS growth
# subtracted is ASan's (380 MB in the bulk tests) and the estimate moves with it (148 MiB once in
# CI, 0-48 MiB in seven reruns of that test, whichever build), so it is the plain run's to check,
# as the RSS bounds are.
kernel_ok() {
	plain_bound_ok "kernel memory" "$1" "$2"
}

# plain_bound_ok WHAT KIB BOUND_KIB: KIB < BOUND_KIB, checked on a plain build only; on a
# sanitizer build the line says it was not.
plain_bound_ok() {
	if sanitizer_build; then
		echo "$1 $2 KiB: bound of $3 KiB not checked on a sanitizer build"
		return 0
	fi
	[ "$2" -lt "$3" ]
}

# fd_count PID: open file descriptors of PID.
fd_count() {
	ls "/proc/$1/fd" | wc -l
}

# mem_available_kib: MemAvailable from /proc/meminfo.
mem_available_kib() {
	awk '/^MemAvailable:/ { print $2 }' /proc/meminfo
}

# pin_dir: where the daemon pins its BPF objects.
pin_dir() {
	echo "/sys/fs/bpf/wsplice/$DAEMON_PID"
}

# sock_map_entries: the daemon's per-socket map, one JSON object per line:
# {"key": cookie, "peer": cookie, "bytes": n, "last_ns": t, "passed": n}.
sock_map_entries() {
	local json=$LOGDIR/.sock_map.json
	timeout 10 bpftool -j map dump pinned "$(pin_dir)/wsplice_sock" >"$json" || return 1
	$PY -c '
import json, sys
for e in json.load(open(sys.argv[1])):
    f = e.get("formatted")
    if f:
        print(json.dumps({"key": f["key"], **f["value"]}))
        continue
    # Without BTF bpftool prints byte arrays: little-endian u64 fields.
    b = lambda a: bytes(int(x, 16) for x in a)
    raw = b(e["value"])
    u = [int.from_bytes(raw[i:i + 8], "little") for i in range(0, 32, 8)]
    print(json.dumps(dict(zip(("key", "peer", "bytes", "last_ns", "passed"),
                              [int.from_bytes(b(e["key"]), "little")] + u))))
' "$json"
}

# sock_map_count: number of entries in the per-socket map.
sock_map_count() {
	local out
	out=$(sock_map_entries) || return 1
	if [ -z "$out" ]; then echo 0; else echo "$out" | wc -l; fi
}

# wait_until SECONDS CONDITION | wait_until SECONDS CMD ARGS...: until the condition holds,
# polled every 50 ms; returns the last try's status. A single CONDITION string is evaluated anew
# each time (so "$(info CurrTunnels)" inside it is re-read); several words run as one command.
wait_until() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 20; i++)); do
		_wait_try "$@" 2>/dev/null && return 0
		sleep 0.05
	done
	_wait_try "$@" || {
		echo "still false after ${secs}s: $*" >&2
		return 1
	}
}

_wait_try() {
	if [ $# -eq 1 ]; then eval "$1"; else "$@"; fi
}

# refute CMD...: fails when CMD succeeds (a bare "! cmd" does not fail a bats test).
refute() {
	if "$@"; then
		echo "unexpectedly succeeded: $*" >&2
		return 1
	fi
}

# stop_wsplice: SIGTERM to the daemon, waits for it and asserts exit status 0.
stop_wsplice() {
	local rc=0
	kill -TERM "$DAEMON_PID"
	wait "$wsplice_PID" || rc=$?
	[ "$rc" -eq 0 ] || {
		echo "wsplice exited with status $rc; its log:" >&2
		cat "$LOGDIR/wsplice.log" >&2
		return 1
	}
}

# dump_logs: after a failed test, the tail of every log in $LOGDIR (call from teardown, after
# common_teardown, so that the processes have flushed and exited).
dump_logs() {
	[ -n "${BATS_TEST_COMPLETED:-}" ] && return 0
	local f
	for f in "$LOGDIR"/*.log; do
		[ -e "$f" ] || continue
		echo "--- ${f##*/} (last 15 lines)"
		tail -n 15 "$f"
	done
}
