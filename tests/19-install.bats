#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Packaging: make install/uninstall with PREFIX and DESTDIR, the man pages (rendered without a
# warning, and wsplice.cfg.5 naming every keyword of the parser's tables), the systemd unit.

setup() {
	load helpers
	common_setup
	need_daemon
	DEST=$LOGDIR/dest
	# make install depends on the binary: with other flags than the build's it would rebuild it
	# (a plain binary under the rest of a SANITIZE=1 run started without make)
	MK=(make -s -C "$TOP")
	if sanitizer_build; then
		MK+=(SANITIZE=1)
	fi
}

teardown() {
	common_teardown
	dump_logs
}

@test "install: make install DESTDIR PREFIX=/usr puts exactly the expected files, uninstall removes them" {
	run timeout 120 "${MK[@]}" install DESTDIR="$DEST" PREFIX=/usr
	echo "$output"
	[ "$status" -eq 0 ]
	run bash -c "cd '$DEST' && find . -type f -printf '%m %p\n' | sort"
	echo "$output"
	[ "$output" = "644 ./usr/lib/systemd/system/wsplice.service
644 ./usr/share/doc/wsplice/wsplice.cfg
644 ./usr/share/man/man5/wsplice.cfg.5
644 ./usr/share/man/man8/wsplice.8
755 ./usr/sbin/wsplice" ]
	run timeout 5 "$DEST/usr/sbin/wsplice" -v
	[[ "$output" == "wsplice version "* ]]
	# the unit runs the installed binary, not the default prefix's
	grep -q '^ExecStart=/usr/sbin/wsplice -db ' "$DEST/usr/lib/systemd/system/wsplice.service"
	refute grep -q /usr/local "$DEST/usr/lib/systemd/system/wsplice.service"
	cmp "$TOP/examples/wsplice.cfg" "$DEST/usr/share/doc/wsplice/wsplice.cfg"

	run timeout 60 "${MK[@]}" uninstall DESTDIR="$DEST" PREFIX=/usr
	[ "$status" -eq 0 ]
	[ -z "$(find "$DEST" -type f)" ]
}

@test "install: the default PREFIX is /usr/local" {
	run timeout 120 "${MK[@]}" install DESTDIR="$DEST"
	[ "$status" -eq 0 ]
	[ -x "$DEST/usr/local/sbin/wsplice" ]
	[ -f "$DEST/usr/local/share/man/man8/wsplice.8" ]
	grep -q '^ExecStart=/usr/local/sbin/wsplice ' "$DEST/usr/local/lib/systemd/system/wsplice.service"
}

@test "man: wsplice.8 and wsplice.cfg.5 render without a warning" {
	command -v man >/dev/null || skip "man-db is not installed (scripts/install-deps)"
	local page out
	for page in "$TOP/docs/wsplice.8" "$TOP/docs/wsplice.cfg.5"; do
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 timeout 20 man --warnings -l "$page" 2>&1 >/dev/null)
		echo "$page: ${out:-no warning}"
		[ -z "$out" ]
		out=$(timeout 20 groff -z -ww -man "$page" 2>&1)
		[ -z "$out" ]
		# and it says something: the NAME section is there
		LC_ALL=C.UTF-8 MANWIDTH=80 timeout 20 man -l "$page" 2>/dev/null | grep -q '^NAME'
	done
}

@test "man: wsplice.cfg.5 names every keyword of the parser's tables, in the right section" {
	command -v man >/dev/null || skip "man-db is not installed (scripts/install-deps)"
	LC_ALL=C.UTF-8 MANWIDTH=300 timeout 20 man -l "$TOP/docs/wsplice.cfg.5" 2>/dev/null |
		col -b >"$LOGDIR/cfg5.txt"
	run $PY - "$TOP" "$LOGDIR/cfg5.txt" <<'PYEOF'
import glob, re, sys
top, page = sys.argv[1], open(sys.argv[2]).read()

# The rendered page cut at its section headings (lines in capitals at column 0).
sections, name = {}, ""
for line in page.splitlines():
    if re.fullmatch(r"[A-Z][A-Z ]+", line):
        name = line
    sections[name] = sections.get(name, "") + line + "\n"

# Every keyword table of user/cfg*.c: rows { "word", ... } and TMO("word", ...).
src = "".join(open(f).read() for f in sorted(glob.glob(top + "/user/cfg*.c")))
tables = {}
for m in re.finditer(r"(\w+)\[\]\s*=\s*\{\n(.*?)\n\s*\};", src, re.S):
    words = re.findall(r'(?:\{|TMO\()\s*"([^"]+)"', m.group(2))
    if words:
        tables[m.group(1)] = words

# Where each table's words must appear, and in which form.
rules = {
    "cfg_global_kws": ("GLOBAL SECTION", "{}"),
    "cfg_proxy_kws": ("PROXY SECTIONS", "{}"),
    "cfg_http_kws": ("PROXY SECTIONS", "{}"),
    "lb_plain": ("PROXY SECTIONS", "{}"),
    "timeouts": ("TIMEOUTS", "timeout {}"),
    "options": ("OPTIONS", "option {}"),
    "srv_kws": ("SERVER OPTIONS", "{}"),
    "units": ("SYNTAX", "{}"),
}
missing = [t for t in rules if t not in tables]
for t in tables:
    if t not in rules:
        missing.append(f"table {t} has no rule in this test: add one")
for t, (sec, form) in rules.items():
    text = sections.get(sec, "")
    if not text:
        missing.append(f"section {sec} is not in the page")
    for w in tables.get(t, []):
        want = form.format(w)
        if not re.search(r"(?<![\w-])" + re.escape(want) + r"(?![\w-])", text):
            missing.append(f"{t}: '{want}' not in {sec}")
n = sum(len(v) for k, v in tables.items() if k in rules)
print(f"{n} keywords in {len(tables)} tables")
print("\n".join(missing))
sys.exit(1 if missing else 0)
PYEOF
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "man: wsplice.8 describes every command-line option main.c parses" {
	command -v man >/dev/null || skip "man-db is not installed (scripts/install-deps)"
	LC_ALL=C.UTF-8 MANWIDTH=300 timeout 20 man -l "$TOP/docs/wsplice.8" 2>/dev/null |
		col -b | sed -n '/^OPTIONS/,/^SIGNALS/p' >"$LOGDIR/opts.txt"
	local opts opt missing=
	opts=$(grep -o 'strcmp(a, "-[a-zA-Z]*")' "$TOP/user/main.c" | sed 's/.*"\(.*\)")/\1/' | sort -u)
	echo "options in main.c:" $opts
	[ -n "$opts" ]
	for opt in $opts; do
		grep -qE -- "(^|[ ,])$opt([ ,]|$)" "$LOGDIR/opts.txt" || missing="$missing $opt"
	done
	echo "missing from wsplice.8 OPTIONS:${missing:- none}"
	[ -z "$missing" ]
}

@test "systemd: the unit passes systemd-analyze verify" {
	command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
	run timeout 120 "${MK[@]}" install DESTDIR="$DEST" PREFIX=/usr
	[ "$status" -eq 0 ]
	# verify checks that the commands exist: point them at the staged binary
	sed "s#/usr/sbin/wsplice#$DEST/usr/sbin/wsplice#g" \
		"$DEST/usr/lib/systemd/system/wsplice.service" >"$LOGDIR/wsplice.service"
	run timeout 30 systemd-analyze verify --man=no "$LOGDIR/wsplice.service"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	grep -q '^Type=notify$' "$LOGDIR/wsplice.service"
	grep -q '^NotifyAccess=all$' "$LOGDIR/wsplice.service"
}

# unit_reload: runs the unit's ExecReload lines one by one as systemd would (its $VAR words
# expanded, the sh -c string left whole), with the unit's environment; stops at the first failure.
unit_reload() {
	local line rc=0
	while IFS= read -r line; do
		line=${line#ExecReload=}
		line=${line//\/usr\/local\/sbin\/wsplice/$WSPLICE}
		echo "reload: $line"
		CONFIG=$LOGDIR/w.cfg PIDFILE=$LOGDIR/wsplice.pid MAINPID=$DAEMON_PID EXTRAOPTS= \
			RELOAD_SOCKET=${RELOAD_SOCKET:-} \
			NOTIFY_SOCKET=$LOGDIR/notify.sock eval "timeout 20 $line" || { rc=$?; break; }
	done < <(grep '^ExecReload=' "$TOP/examples/wsplice.service")
	return "$rc"
}

@test "systemd: the unit's ExecReload replaces the process; the old one keeps its tunnel to the end" {
	build_peers
	FE=$(free_port) WS=$(free_port) HT=$(free_port)
	bg http timeout 120 $PY -m http.server "$HT" --bind 127.0.0.1
	wait_for_port "$HT"
	bg notify timeout 120 $PY "$PEERS/notify_recv.py" "$LOGDIR/notify.sock" "$FE"
	wait_for_log "$LOGDIR/notify.log" "^listening$"
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT"
	NOTIFY_SOCKET=$LOGDIR/notify.sock start_wsplice "$LOGDIR/w.cfg"
	wait_for_log "$LOGDIR/notify.log" "^pid=$DAEMON_PID READY=1$"
	local size=$((1024 * 1024)) old=$DAEMON_PID new
	bg srv timeout 120 "$STREAM" server "$WS" --timeout 20 --send "$size" --recv "$size" \
		--interval 20 --chunk 8192
	wait_for_port "$WS"
	bg cli timeout 120 "$STREAM" client "127.0.0.1:$FE" --timeout 20 --send "$size" \
		--recv "$size" --interval 20 --chunk 8192
	wait_until 10 '[ "$(info CurrTunnels)" -ge 1 ]'

	unit_reload >"$LOGDIR/reload.log" 2>&1
	cat "$LOGDIR/reload.log"
	new=$(head -n1 "$LOGDIR/wsplice.pid")
	PIDS+=("$new")
	echo "old $old new $new"
	[ "$new" != "$old" ]
	wait_for_log "$LOGDIR/notify.log" "^pid=$new MAINPID=$new$"
	[ "$(timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/")" = 200 ]
	# the old process still carries the tunnel, then leaves once it is done
	kill -0 "$old"
	wait "$cli_PID"
	wait "$srv_PID"
	grep -q "^ok sent=$size recv=$size" "$LOGDIR/cli.log"
	wait_until 10 '! kill -0 '"$old"' 2>/dev/null'
	refute grep -q "^pid=$old STOPPING=1" "$LOGDIR/notify.log"
	kill -TERM "$new"
}

@test "systemd: a reload whose new process cannot start leaves the old one listening" {
	FE=$(free_port) WS=$(free_port) HT=$(free_port)
	bg http timeout 120 $PY -m http.server "$HT" --bind 127.0.0.1
	wait_for_port "$HT"
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT"
	start_wsplice "$LOGDIR/w.cfg" -dS
	wait_for_port "$FE"
	# valid for -c, but the new process cannot create its stats socket
	sed -i "s#stats socket [^ ]*#stats socket $LOGDIR/no-such-dir/s.sock#" "$LOGDIR/w.cfg"
	refute unit_reload >"$LOGDIR/reload.log" 2>&1
	cat "$LOGDIR/reload.log"
	wait_for_log "$LOGDIR/wsplice.log" "Resumed proxy fe_main\\."
	[ "$(timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/")" = 200 ]
	[ "$(head -n1 "$LOGDIR/wsplice.pid")" = "$DAEMON_PID" ]
}

@test "systemd: with RELOAD_SOCKET the unit's ExecReload moves the tunnel to the new process (-x)" {
	build_peers
	FE=$(free_port) WS=$(free_port) HT=$(free_port)
	bg http timeout 120 $PY -m http.server "$HT" --bind 127.0.0.1
	wait_for_port "$HT"
	std_cfg "$LOGDIR/w.cfg" "$FE" "$WS" "$HT"
	sed -i 's/level admin$/level admin expose-fd listeners/' "$LOGDIR/w.cfg"
	grep -q 'expose-fd listeners' "$LOGDIR/w.cfg"
	start_wsplice "$LOGDIR/w.cfg"
	wait_for_port "$FE"
	local size=$((1024 * 1024)) old=$DAEMON_PID new
	bg srv timeout 120 "$STREAM" server "$WS" --timeout 20 --send "$size" --recv "$size" \
		--interval 20 --chunk 8192
	wait_for_port "$WS"
	bg cli timeout 120 "$STREAM" client "127.0.0.1:$FE" --timeout 20 --send "$size" \
		--recv "$size" --interval 20 --chunk 8192
	wait_until 10 '[ "$(info CurrTunnels)" -ge 1 ]'

	RELOAD_SOCKET=$STATS_SOCK unit_reload >"$LOGDIR/reload.log" 2>&1
	cat "$LOGDIR/reload.log"
	new=$(head -n1 "$LOGDIR/wsplice.pid")
	PIDS+=("$new")
	[ "$new" != "$old" ]
	# the old process handed its tunnel over and left while the tunnel still streams
	wait_until 10 '! kill -0 '"$old"' 2>/dev/null'
	kill -0 "$cli_PID"
	[ "$(info CurrTunnels)" -ge 1 ]
	refute grep -q "Paused proxy" "$LOGDIR/wsplice.log"
	wait "$cli_PID"
	wait "$srv_PID"
	grep -q "^ok sent=$size recv=$size" "$LOGDIR/cli.log"
	grep -q "^ok sent=$size recv=$size" "$LOGDIR/srv.log"
	kill -TERM "$new"
}
