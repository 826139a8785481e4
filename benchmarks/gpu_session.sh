#!/usr/bin/env bash
# One prepared call on a lent GPU machine (H200, 16 cores, no network), under 8 minutes in all:
#   build with CUDA against the machine's torch (~90 s), the CUDA tests (90 s), compute-sanitizer
#   memcheck and racecheck over every kernel's op tests (120 s, all eight runs at once), the
#   benchmarks (150 s), each step under its own timeout and all under one deadline (BUDGET_S).
# One summary line per step. What comes back ($OUT holds at most 8 files): summary.txt, the
# benchmarks' results/*_cuda.json and logs.tar.gz (every log). Usage, from the repository root:
#   bash benchmarks/gpu_session.sh
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
REPO=$(pwd)
LOGS=/tmp/gpu_session_logs; rm -rf "$LOGS"; mkdir -p "$LOGS"
BEGIN=$(date +%s); DEADLINE=$(( BEGIN + ${BUDGET_S:-465} ))
export ZFCUDA_CUDA=on TORCH_CUDA_ARCH_LIST=9.0 CMAKE_BUILD_PARALLEL_LEVEL=16 MAX_JOBS=16 PYTHONUNBUFFERED=1
# The image's default CXX (/opt/gcc) leaves libstdc++ out of the extension's NEEDED libraries and
# every C++ error path then segfaults (seen 2026-11-25); the system compiler links it properly.
[ -x /usr/bin/g++ ] && export CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++

# seconds a step may take: its own budget, cut to what is left before the deadline
budget() { local left=$(( DEADLINE - $(date +%s) )); (( left < $1 )) && echo $(( left > 1 ? left : 1 )) || echo "$1"; }
# one line per step, on the screen and in summary.txt: name, exit status (124: timed out), seconds, detail
summary() { printf '%-34s rc=%-3s %4ss  %s\n' "$1" "$2" "$3" "$4" | tee -a "$OUT/summary.txt"; }
last_line() { grep -v -i -e warn -e '^\s*$' "$1" 2>/dev/null | tail -1 | cut -c1-150; }
finish() {  # logs into one archive: only 8 files come back from $OUT; results written by this call only
  find "$REPO/benchmarks/results" -name '*_cuda.json' -newer "$LOGS/gpu.txt" 2>/dev/null | head -6 | xargs -r cp -t "$OUT/"
  tar -czf "$OUT/logs.tar.gz" -C "$LOGS" . 2>/dev/null
  summary "total" "-" "$(( $(date +%s) - BEGIN ))" "$(ls "$OUT" | tr '\n' ' ')"
}
trap finish EXIT

timeout 20 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$LOGS/gpu.txt" 2>&1
summary "gpu" "$?" 0 "$(head -1 "$LOGS/gpu.txt")"

# Build. A wheel-less install into /tmp/zf, then its compiled files copied into the repository's
# zfcuda/ (git ignores them): pytest puts the repository first on sys.path (rootdir, tests/ is a
# package), so the repository's zfcuda/ is what the tests import, and uncompiled it shadows the
# build ("compiled extension is missing"). Stale ones from an earlier call are removed first, so
# a failed build cannot test an old one.
rm -f "$REPO"/zfcuda/_C*.so "$REPO"/zfcuda/_build_config.py
start=$(date +%s)
timeout "$(budget 150)" python3 -m pip install --no-build-isolation --no-deps -q --target /tmp/zf . > "$LOGS/build.log" 2>&1
rc=$?
[ $rc = 0 ] && cp /tmp/zf/zfcuda/_C*.so /tmp/zf/zfcuda/_build_config.py "$REPO/zfcuda/"
info=$(cd "$REPO" && timeout 60 python3 -c "import zfcuda; print(zfcuda.build_info())" 2>&1 | tail -1)
summary "build" "$rc" "$(( $(date +%s) - start ))" "$info"
if [ $rc != 0 ] || ! grep -q "'cuda': True" <<< "$info"; then tail -40 "$LOGS/build.log"; exit 1; fi
# Benchmarks import the build itself; from /tmp no uncompiled source tree can shadow it either way.
export PYTHONPATH=/tmp/zf

PYTEST=(python3 -m pytest -q -p no:cacheprovider -k cuda)
start=$(date +%s)
(cd "$REPO" && timeout -k 5 "$(budget 90)" "${PYTEST[@]}" tests) > "$LOGS/tests_cuda.log" 2>&1
summary "cuda tests" "$?" "$(( $(date +%s) - start ))" "$(last_line "$LOGS/tests_cuda.log")"

# compute-sanitizer: memcheck (out-of-bounds and misaligned accesses, with torch's caching
# allocator off so that every tensor is its own allocation with exact bounds) and racecheck
# (shared-memory hazards), over the CUDA tests of every kernel; eight processes at once on one GPU.
SANITIZER=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
OP_TESTS="test_max_pool2d_switches test_unpool_gather test_occlusion_batch test_patched_crops"
if [ -z "$SANITIZER" ]; then
  summary "compute-sanitizer" "-" 0 "not found"
else
  start=$(date +%s); limit=$(budget 120); limit=$(( limit > 10 ? limit - 5 : 5 )); pids=()
  for tool in memcheck racecheck; do
    # torch reads PYTORCH_NO_CUDA_MEMORY_CACHING as set or not (any value, "0" too): set it for memcheck only
    envs=(); [ $tool = memcheck ] && envs=(PYTORCH_NO_CUDA_MEMORY_CACHING=1)
    for t in $OP_TESTS; do
      (s=$(date +%s); cd "$REPO" && env ${envs[@]+"${envs[@]}"} timeout -k 5 "$limit" "$SANITIZER" --tool $tool --error-exitcode 9 --print-limit 20 \
        "${PYTEST[@]}" "tests/ops/$t.py" > "$LOGS/sanitizer_${tool}_$t.log" 2>&1
       echo "$? $(( $(date +%s) - s ))" > "$LOGS/sanitizer_${tool}_$t.rc") &
      pids+=($!)
    done
  done
  wait "${pids[@]}"
  for tool in memcheck racecheck; do
    for t in $OP_TESTS; do
      log="$LOGS/sanitizer_${tool}_$t.log"
      errors=$(grep -o 'ERROR SUMMARY: [0-9]* error[s]*\|RACECHECK SUMMARY: [0-9]* hazard[s]*[^,]*' "$log" | tail -1)
      tests=$(grep -E '^[0-9]+ [a-z]+.* in [0-9.]+s' "$log" | tail -1 | cut -c1-70)
      read -r rc seconds < "$LOGS/sanitizer_${tool}_$t.rc"
      summary "$tool $t" "$rc" "$seconds" "${errors:-no sanitizer summary}; ${tests:-no pytest summary}"
    done
  done
fi

# Benchmarks, one after another (each alone on the GPU): 150 s together.
cd /tmp
bench() {  # name, own budget, command...
  local name=$1 own=$2; shift 2
  local s=$(date +%s)
  timeout -k 5 "$(budget "$own")" "$@" > "$LOGS/$name.log" 2>&1
  summary "$name" "$?" "$(( $(date +%s) - s ))" "$(last_line "$LOGS/$name.log")"
}
bench bench_ops 35 python3 "$REPO/benchmarks/bench_ops.py"
bench bench_deconv 55 python3 "$REPO/benchmarks/bench_deconv.py" --repeats 2
# stride 8 (4x fewer positions than the GPU default of 4): positions/s barely depend on the stride
bench bench_occlusion 50 python3 "$REPO/benchmarks/bench_occlusion.py" --repeats 2 --zfnet-stride 8 --vgg-stride 8
if [ -f "$REPO/benchmarks/sass_report.py" ]; then
  bench sass_report 25 python3 "$REPO/benchmarks/sass_report.py"
fi
