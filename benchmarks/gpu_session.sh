#!/usr/bin/env bash
# One call on a lent GPU machine (no network there): build with CUDA against the machine's torch,
# run the CUDA tests, compute-sanitizer on the CUDA op tests, then the benchmarks. Everything it
# writes lands in $OUT (logs, benchmark JSON). Usage: bash benchmarks/gpu_session.sh
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
REPO=$(pwd)
export ZFCUDA_CUDA=on TORCH_CUDA_ARCH_LIST=9.0 CMAKE_BUILD_PARALLEL_LEVEL=16 PYTHONUNBUFFERED=1
# The image's default CXX (/opt/gcc) leaves libstdc++ out of the extension's NEEDED libraries and
# every C++ error path then segfaults (seen 2026-11-25); the system compiler links it properly.
[ -x /usr/bin/g++ ] && export CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
start=$(date +%s)
python3 -m pip install --no-build-isolation --no-deps -q --target /tmp/zf . > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
echo "build: $(( $(date +%s) - start )) s"
export PYTHONPATH=/tmp/zf
cd /tmp  # so that the repository's uncompiled zfcuda/ does not shadow the build
timeout 200 python3 -m pytest -q -p no:cacheprovider -k cuda "$REPO/tests" > "$OUT/tests_cuda.log" 2>&1; echo "cuda tests rc=$?"; tail -3 "$OUT/tests_cuda.log"
timeout 90 compute-sanitizer --tool memcheck --error-exitcode 9 python3 -m pytest -q -p no:cacheprovider -k cuda \
  "$REPO/tests/test_patched_crops.py" "$REPO/tests/test_occlusion_batch.py" > "$OUT/sanitizer.log" 2>&1; echo "sanitizer rc=$?"; tail -4 "$OUT/sanitizer.log"
for bench in bench_ops bench_deconv bench_occlusion; do
  extra=""; [ "$bench" = bench_occlusion ] && extra="--repeats 2"
  timeout 100 python3 "$REPO/benchmarks/$bench.py" $extra > "$OUT/$bench.log" 2>&1; echo "$bench rc=$?"; grep -v -i warn "$OUT/$bench.log" | tail -6
done
cp "$REPO"/benchmarks/results/*_cuda.json "$OUT/" 2>/dev/null; ls "$OUT"
