#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# The libFuzzer harnesses (tests/fuzz/fuzz_*.c) each run for 10 seconds from their seed corpus
# (tests/fuzz/corpus/<name>/, which holds the regression seeds of the bugs they found) through
# tests/fuzz/run: a crash, a leak, a sanitizer report or a broken invariant fails the test.
# "make fuzz FUZZ_TIME=N" runs them longer; docs/reliability.md has the numbers of long runs.

FUZZ_SECS=10

setup_file() {
	load helpers
	command -v clang >/dev/null || return 0
	if sanitizer_build; then
		return 0
	fi
	timeout 600 make -s -C "$BATS_TEST_DIRNAME/.." fuzz-build >&2
}

setup() {
	load helpers
	common_setup
	command -v clang >/dev/null || skip "clang is not installed"
	# the harnesses are the same binaries in both runs (always built with ASan and UBSan, apart
	# from the daemon): the plain make test runs them, CI's SANITIZE=1 run would repeat it
	if sanitizer_build; then
		skip "same harnesses as the plain run, which ran them (SANITIZE=1 build)"
	fi
}

teardown() {
	common_teardown
	dump_logs
}

# fuzz NAME: runs the harness, its output in $output; the work dir (artifacts) is the test's.
fuzz() {
	run timeout $((FUZZ_SECS + 150)) "$TOP/tests/fuzz/run" "$1" "$FUZZ_SECS" "$LOGDIR/$1"
	echo "$output" | tail -n 12
	[ "$status" -eq 0 ]
	[[ "$output" == *"Done "*" runs in "* ]]
	[[ "$output" == *"fuzz_$1: $FUZZ_SECS s without a finding"* ]]
	refute grep -q 'runtime error' "$LOGDIR/$1/log"
	refute compgen -G "$LOGDIR/$1/crash-*"
	refute compgen -G "$LOGDIR/$1/leak-*"
}

@test "fuzz: http_parse_head/http_parse_body on requests and responses, checks and rules" {
	fuzz http
}

@test "fuzz: the WebSocket handshake checks, request key and response accept" {
	fuzz ws
}

@test "fuzz: the config parser, cfg_parse_file and cfg_check, twice per input" {
	fuzz cfg
}
