#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# The C unit tests (tests/unit/test_*.c, built by "make unit" into .output/tests/): each binary
# prints TAP; a test passes when it exits 0, prints a plan "1..N" with N > 0, ran N checks and
# printed no "not ok". A binary that crashes half-way leaves no plan and fails here.

setup() {
	load helpers
	common_setup
}

teardown() {
	common_teardown
}

# run_unit NAME: runs .output/tests/NAME and checks its TAP output.
run_unit() {
	local bin=$TOP/.output/tests/$1 plan count
	[ -x "$bin" ] || {
		echo "$bin is missing: run make unit first" >&2
		return 1
	}
	run timeout 120 "$bin"
	echo "$output" | grep -E '^(not ok|#)' >&2 || true
	[ "$status" -eq 0 ]
	plan=$(echo "$output" | sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' | tail -1)
	[ -n "$plan" ] && [ "$plan" -gt 0 ]
	count=$(echo "$output" | grep -cE '^(not )?ok [0-9]+')
	[ "$count" -eq "$plan" ]
	# not "! grep": bats does not fail a test on a negated command
	if echo "$output" | grep -q '^not ok'; then
		return 1
	fi
}

@test "unit: every tests/unit/test_*.c has a binary" {
	local src name
	for src in "$TOP"/tests/unit/test_*.c; do
		name=$(basename "$src" .c)
		[ -x "$TOP/.output/tests/$name" ] || {
			echo "$name not built: run make unit" >&2
			return 1
		}
	done
}

@test "unit: test_cfg (tokenizer, time, addresses, keywords, defaults, errors, checks)" {
	run_unit test_cfg
}

@test "unit: test_acl (ACL parsing, conditions, every criterion)" {
	run_unit test_acl
}

@test "unit: every other test_* binary" {
	local bin name
	for bin in "$TOP"/.output/tests/test_*; do
		name=$(basename "$bin")
		[ -x "$bin" ] && [ "${name%.d}" = "$name" ] || continue
		case $name in test_cfg | test_acl) continue ;; esac
		run_unit "$name"
	done
}
