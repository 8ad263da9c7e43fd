#!/bin/sh
# Runs each libFuzzer target for a bounded time on a scratch copy of its seed
# corpus and prints one TAP line per target.
# usage: run.sh SECONDS CORPUS_DIR TARGET...
set -u
seconds=$1 corpus=$2
shift 2
echo "1..$#"
n=0 failed=0
for target in "$@"; do
	n=$((n + 1))
	name=$(basename "$target")
	work=$(mktemp -d)
	cp -r "$corpus/$name/." "$work/" 2>/dev/null
	if "$target" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
		-print_final_stats=1 "$work" >"$work.log" 2>&1; then
		echo "ok $n - $name ($(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$work.log" | grep -Eo '[0-9]+$') runs in ${seconds}s)"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name"
		sed 's/^/# /' "$work.log" | tail -40
	fi
	rm -rf "$work" "$work.log"
done
[ "$failed" -eq 0 ]
