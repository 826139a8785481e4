// The process-wide on/off state behind fast_paths.h.
#include "fast_paths.h"

#include <atomic>

namespace zfcuda::cpu {
namespace {
std::atomic<bool> enabled{true};
}

bool fast_paths_enabled() { return enabled.load(std::memory_order_relaxed); }
void set_fast_paths_enabled(bool value) { enabled.store(value, std::memory_order_relaxed); }

}  // namespace zfcuda::cpu
