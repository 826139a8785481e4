// A switch between the CPU fast paths (whole rows or pixels, vectorised) and the shared
// per-element bodies that the CUDA kernels run. Tests run the CPU suite both ways, so the
// GPU's arithmetic is exercised on machines without a GPU.
#pragma once

namespace zfcuda::cpu {

bool fast_paths_enabled();
void set_fast_paths_enabled(bool enabled);

}  // namespace zfcuda::cpu
