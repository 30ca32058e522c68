#!/usr/bin/env bash
# Fill every weight-stripped full-size graph with seeded random weights and run
# it once through onnxrun, printing one summary line per graph.
#
#   scripts/fullsize.sh [OUTROOT] [NAME...]
#
# OUTROOT defaults to /tmp/fullsize; NAME limits the run to those graphs of
# ../shared/testdata/fullsize-graphs (override with FULLSIZE_GRAPHS=DIR).
# Environment: SEED (1), BATCH (2), PAST (322) for fillweights; THREADS (0 =
# GOMAXPROCS) for onnxrun; BENCH=N (0) adds N timed runs after the first
# (onnxrun -bench: min/median of warm runs); FORCE=1 refills graphs already filled; RESERVE_GB
# (10) is the free space to keep beyond a graph's data file, else it is skipped.
#
# Per graph, OUTROOT/NAME holds model.onnx, model.onnx.data, test_data_set_0/,
# fill.log, run.log (onnxrun -v -stats -profile output) and time.txt
# (/usr/bin/time -v). The summary is also written to OUTROOT/summary.txt.
# Errors (missing ops, failed fills, NaN/Inf) are reported on the summary line,
# never hidden; the exit status is 1 if any graph failed.
set -u -o pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
graphs=${FULLSIZE_GRAPHS:-$repo/../shared/testdata/fullsize-graphs}
outroot=${1:-/tmp/fullsize}
[ $# -gt 0 ] && shift
seed=${SEED:-1} batch=${BATCH:-2} past=${PAST:-322} threads=${THREADS:-0} bench=${BENCH:-0}
reserve_gb=${RESERVE_GB:-10}

if [ ! -d "$graphs" ]; then
	echo "fullsize: no graphs folder at $graphs" >&2
	exit 2
fi
if [ ! -x /usr/bin/time ]; then
	echo "fullsize: installing GNU time (apt-get install -y time)" >&2
	if [ "$(id -u)" = 0 ]; then apt-get install -y time >&2; else sudo apt-get install -y time >&2; fi
	[ -x /usr/bin/time ] || { echo "fullsize: /usr/bin/time is missing and could not be installed" >&2; exit 2; }
fi

mkdir -p "$outroot/.bin" || exit 2
echo "fullsize: building fillweights and onnxrun" >&2
# Built once, so compile time and the go tool's memory stay out of the measurements.
(cd "$repo" && go build -o "$outroot/.bin/fillweights" ./cmd/fillweights && go build -o "$outroot/.bin/onnxrun" ./cmd/onnxrun) || exit 2

if [ $# -gt 0 ]; then
	names=("$@")
else
	names=()
	for d in "$graphs"/*/; do names+=("$(basename "$d")"); done
fi

summary="$outroot/summary.txt"
{
	echo "# $(date -u +%Y-%m-%dT%H:%MZ) commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		"seed $seed batch $batch past $past threads $threads bench $bench"
	echo "# $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs"
} | tee "$summary"

human_kb() { awk -v k="$1" 'BEGIN { if (k >= 1048576) printf "%.2fGiB", k/1048576; else printf "%.0fMiB", k/1024 }'; }

failed=0
for name in "${names[@]}"; do
	src="$graphs/$name"
	out="$outroot/$name"
	line() { printf '%-36s %s\n' "$name" "$*" | tee -a "$summary"; }
	if [ ! -f "$src/model.onnx" ]; then
		line "ERROR no such graph ($src)"
		failed=1
		continue
	fi
	mkdir -p "$out"
	data_bytes=$(grep -o '"data_bytes": *[0-9]*' "$src/graph.json" 2>/dev/null | grep -o '[0-9]*$' || echo 0)
	stamp="seed=$seed batch=$batch past=$past"
	if [ "${FORCE:-0}" != 1 ] && [ -f "$out/.filled" ] && [ "$(cat "$out/.filled")" = "$stamp" ]; then
		echo "fullsize: $name: already filled ($stamp)" >&2
	else
		rm -f "$out/.filled" "$out/model.onnx.data"
		free=$(df -B1 --output=avail "$out" | tail -1 | tr -d ' ')
		need=$((${data_bytes:-0} + reserve_gb * 1024 * 1024 * 1024))
		if [ "$free" -lt "$need" ]; then
			line "SKIP needs $((need >> 30)) GiB free (data $((data_bytes >> 20)) MiB + ${reserve_gb} GiB reserve), have $((free >> 30)) GiB"
			continue
		fi
		echo "fullsize: $name: filling $((data_bytes >> 20)) MiB" >&2
		if ! "$outroot/.bin/fillweights" -graph "$src" -out "$out" -seed "$seed" -batch "$batch" -past "$past" >"$out/fill.log" 2>&1; then
			line "FILL-ERROR $(tail -1 "$out/fill.log")"
			failed=1
			continue
		fi
		echo "$stamp" >"$out/.filled"
	fi
	echo "fullsize: $name: running" >&2
	/usr/bin/time -v -o "$out/time.txt" "$outroot/.bin/onnxrun" -model "$out/model.onnx" -data "$out/test_data_set_0" \
		-threads "$threads" -bench "$bench" -v -stats -profile >"$out/run.log" 2>&1
	rc=$?
	rss_kb=$(grep -o 'Maximum resident set size (kbytes): [0-9]*' "$out/time.txt" | grep -o '[0-9]*$')
	rss=$(human_kb "${rss_kb:-0}")
	if [ $rc -ne 0 ]; then
		line "RUN-ERROR (exit $rc, peak RSS $rss) $(grep -m1 '^onnxrun:' "$out/run.log" || tail -1 "$out/run.log")"
		failed=1
		continue
	fi
	times=$(grep -m1 '^time: ' "$out/run.log" | sed 's/^time: //')
	nodes=$(grep -m1 -o '[0-9]* nodes after passes' "$out/run.log" | grep -o '^[0-9]*')
	nan=$(grep -o ' nan=[0-9]*' "$out/run.log" | awk -F= '{ s += $2 } END { print s + 0 }')
	inf=$(grep -o ' inf=[0-9]*' "$out/run.log" | awk -F= '{ s += $2 } END { print s + 0 }')
	warm=$(grep -m1 '^bench: ' "$out/run.log" | sed 's/^bench: \([0-9]*\) runs, min \([^,]*\), median \([^ ]*\).*/, warm runs (\1) min \2 median \3/')
	verdict=ok
	if [ "$nan" != 0 ] || [ "$inf" != 0 ]; then
		verdict="NaN/Inf in outputs"
		failed=1
	fi
	line "$times (first)${warm}, peak RSS $rss, ${nodes:-?} nodes, NaN $nan, Inf $inf: $verdict"
done
exit $failed
