#!/usr/bin/env bash
# Targets 1 and 2 of docs/BENCHMARKS.md: whole-process wall time and peak RSS
# of `pprof_exporter reduce --kind=cpu` on the large fixture, side by side
# with the gunzip floor (`gzip -dc`, and zlib alone: bench/zgunzip.c), with
# ISA-L's `igzip -dc` (the decoder profile/inflate.cc uses: the new floor)
# and with Go's github.com/google/pprof/profile Parse + the same reduction
# (bench/gocompare).
#
#   bench/reduce_compare.sh [FILE]      (default ../shared/fixtures/large-cpu.pb.gz)
#
# Environment: RUNS (hyperfine runs per command, default 15), ROUNDS
# (interleaved /usr/bin/time rounds for RSS and CPU time, default 7),
# PPROF_EXPORTER (use this binary instead of building -c opt),
# PPROF_EXPORTER_BEFORE (also measure this older build, as "before"),
# KEEP_WORK=1.
# Bounded: every command runs under `timeout`; about 2-4 minutes on 2 busy
# cores. Prints a summary; checks first that Go and the exporter print the
# same figures (relative difference <= 1e-9).
source "$(dirname "$0")/lib.sh"

FILE="$(realpath "${1:-$FIXTURES/large-cpu.pb.gz}")"
RUNS="${RUNS:-15}"
ROUNDS="${ROUNDS:-7}"
[[ -r $FILE ]] || { echo "no profile at $FILE" >&2; exit 1; }

get_exporter
go_build "$BENCH_DIR/gocompare" "$WORK/gocompare"
cc -O2 -o "$WORK/zgunzip" "$BENCH_DIR/zgunzip.c" -lz
EXP="$WORK/pprof_exporter"
command -v igzip >/dev/null || { echo "igzip missing: scripts/deps.sh installs isal" >&2; exit 1; }
BEFORE=()
if [[ -n ${PPROF_EXPORTER_BEFORE:-} ]]; then
  cp "$PPROF_EXPORTER_BEFORE" "$WORK/pprof_exporter_before"
  BEFORE=(before)
  cmp -s <("$WORK/pprof_exporter_before" reduce --kind=cpu "$FILE") \
    <("$EXP" reduce --kind=cpu "$FILE") ||
    { echo "MISMATCH: before and after print different output" >&2; exit 1; }
fi
RAW_BYTES="$(gzip -dc "$FILE" | wc -c)"
GZ_BYTES="$(stat -c %s "$FILE")"

# --- 1. Both compute the same figures --------------------------------------
log "checking that Go and the exporter agree"
timeout 120 "$EXP" reduce --kind=cpu "$FILE" | grep -v '^#' >"$WORK/exporter.txt"
timeout 300 "$WORK/gocompare" "$FILE" >"$WORK/go.txt"
"$PY" - "$WORK/exporter.txt" "$WORK/go.txt" <<'EOF' || { echo "MISMATCH: Go and the exporter disagree" >&2; exit 1; }
import sys
def read(path):
    out = []
    for line in open(path):
        key, _, val = line.rstrip("\n").rpartition(" ")
        out.append((key, float(val)))
    return out
a, b = read(sys.argv[1]), read(sys.argv[2])
bad = [(x, y) for x, y in zip(a, b)
       if x[0] != y[0] or abs(x[1] - y[1]) > 1e-9 * max(abs(x[1]), abs(y[1]), 1e-300)]
if len(a) != len(b) or bad:
    for x, y in bad[:10]:
        print("exporter:", x, "\ngo:      ", y, file=sys.stderr)
    print(f"{len(a)} vs {len(b)} lines", file=sys.stderr)
    sys.exit(1)
print(f"agree: {len(a)} series (cpu seconds, duration, gc ratio, top-10 flat and cum)")
EOF

# --- 2. Wall time: hyperfine ------------------------------------------------
LOAD_BEFORE="$(load_now)"
if command -v hyperfine >/dev/null; then
  log "hyperfine: $RUNS runs each (load $LOAD_BEFORE)"
  timeout 1200 hyperfine -N --warmup 2 --runs "$RUNS" --style basic \
    --export-json "$WORK/hyperfine.json" \
    -n gzip "gzip -dc $FILE" \
    -n zlib "$WORK/zgunzip $FILE" \
    -n igzip "igzip -dc $FILE" \
    -n exporter "$EXP reduce --kind=cpu $FILE" \
    ${BEFORE:+-n before "$WORK/pprof_exporter_before reduce --kind=cpu $FILE"} \
    -n go "$WORK/gocompare $FILE" >"$WORK/hyperfine.txt" 2>&1 ||
    { cat "$WORK/hyperfine.txt"; exit 1; }
else
  log "hyperfine not installed: only the interleaved /usr/bin/time rounds"
fi
LOAD_MID="$(load_now)"

# --- 3. Interleaved rounds: wall, CPU and peak RSS --------------------------
# One run of each command per round, so that load changes hit all of them.
log "$ROUNDS interleaved rounds under /usr/bin/time"
: >"$WORK/rounds.txt"
for ((r = 1; r <= ROUNDS; r++)); do
  for cmd in gzip zlib igzip exporter "${BEFORE[@]}" go version; do
    case $cmd in
      gzip) argv=(gzip -dc "$FILE") ;;
      zlib) argv=("$WORK/zgunzip" "$FILE") ;;
      igzip) argv=(igzip -dc "$FILE") ;;
      before) argv=("$WORK/pprof_exporter_before" reduce --kind=cpu "$FILE") ;;
      exporter) argv=("$EXP" reduce --kind=cpu "$FILE") ;;
      go) argv=("$WORK/gocompare" "$FILE") ;;
      version) argv=("$EXP" --version) ;;
    esac
    /usr/bin/time -o "$WORK/t" -f "%e %U %S %M" timeout 300 "${argv[@]}" >/dev/null
    echo "$r $cmd $(cat "$WORK/t")" >>"$WORK/rounds.txt"
  done
done
LOAD_AFTER="$(load_now)"

# --- Summary ----------------------------------------------------------------
"$PY" - "$WORK/rounds.txt" "$WORK/hyperfine.json" "$RAW_BYTES" "$GZ_BYTES" \
  "$LOAD_BEFORE" "$LOAD_MID" "$LOAD_AFTER" "$FILE" <<'EOF'
import json, os, statistics as st, sys
rounds, hf_path, raw, gz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
loads, path = sys.argv[5:8], sys.argv[8]
med = st.median
rows = {}
for line in open(rounds):
    r, cmd, wall, user, sys_, rss = line.split()
    rows.setdefault(cmd, []).append((float(wall), float(user) + float(sys_), int(rss)))
def col(cmd, i): return [x[i] for x in rows[cmd]]
def ratio_per_round(a, b, i):  # median over rounds of a/b in the same round
    return med([x[i] / y[i] for x, y in zip(rows[a], rows[b]) if y[i] > 0])

print()
print(f"== reduce_compare: {path}")
print(f"   {gz/1e6:.1f} MB gzipped, {raw/1e6:.1f} MB raw; load avg before/mid/after: "
      f"{loads[0]} | {loads[1]} | {loads[2]}")
if os.path.exists(hf_path):
    hf = {r["command"]: r for r in json.load(open(hf_path))["results"]}
    m = {k: med(v["times"]) for k, v in hf.items()}
    n = len(hf["exporter"]["times"])
    print(f"-- wall time, hyperfine ({n} runs each, median [min..max]):")
    for k in [k for k in ["gzip", "zlib", "igzip", "exporter", "before", "go"] if k in hf]:
        t = hf[k]["times"]
        print(f"   {k:9s} {m[k]*1000:8.1f} ms  [{min(t)*1000:.1f} .. {max(t)*1000:.1f}]"
              f"  user+sys {(hf[k]['user']+hf[k]['system'])*1000:.0f} ms (mean)")
    r1 = m["exporter"] / m["gzip"]
    print(f"   exporter / gzip -dc = {r1:.2f}x  (target <= 1.0x: {'MET' if r1 <= 1.0 else 'MISSED'})")
    print(f"   exporter / zlib     = {m['exporter']/m['zlib']:.2f}x")
    print(f"   exporter / igzip    = {m['exporter']/m['igzip']:.2f}x")
    if "before" in m:
        print(f"   before / exporter   = {m['before']/m['exporter']:.2f}x")
    r2 = m["go"] / m["exporter"]
    print(f"   go / exporter       = {r2:.1f}x  (target >= 10x: {'MET' if r2 >= 10 else 'MISSED'})")
print(f"-- interleaved rounds ({len(rows['exporter'])}), medians:")
print(f"   {'':9s} {'wall ms':>9s} {'cpu ms':>9s} {'peak RSS MiB':>12s}")
for k in [k for k in ["gzip", "zlib", "igzip", "exporter", "before", "go", "version"] if k in rows]:
    print(f"   {k:9s} {med(col(k,0))*1000:9.0f} {med(col(k,1))*1000:9.0f} {med(col(k,2))/1024:12.1f}")
print(f"   per-round ratios (median): exporter/gzip wall {ratio_per_round('exporter','gzip',0):.2f}x, "
      f"cpu {ratio_per_round('exporter','gzip',1):.2f}x; exporter/igzip wall {ratio_per_round('exporter','igzip',0):.2f}x; exporter/zlib cpu {ratio_per_round('exporter','zlib',1):.2f}x; "
      f"go/exporter wall {ratio_per_round('go','exporter',0):.1f}x, cpu {ratio_per_round('go','exporter',1):.1f}x")
peak = med(col("exporter", 2)) * 1024
base = med(col("version", 2)) * 1024
gopeak = med(col("go", 2)) * 1024
rr = peak / raw
print(f"-- peak RSS vs raw profile ({raw/1e6:.1f} MB = {raw/2**20:.1f} MiB):")
if "before" in rows:
    print(f"   before/exporter per round: wall {ratio_per_round('before','exporter',0):.2f}x, cpu {ratio_per_round('before','exporter',1):.2f}x")
print(f"   exporter reduce {peak/2**20:.1f} MiB = {rr:.2f}x raw  (target <= 1.5x: {'MET' if rr <= 1.5 else 'MISSED'})")
print(f"   exporter --version (shared libraries, baseline) {base/2**20:.1f} MiB; "
      f"marginal {(peak-base)/2**20:.1f} MiB = {(peak-base)/raw:.2f}x raw")
print(f"   go Parse+reduce {gopeak/2**20:.1f} MiB = {gopeak/raw:.2f}x raw ({gopeak/peak:.1f}x the exporter)")
EOF
