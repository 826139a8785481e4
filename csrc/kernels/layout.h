// The shape and memory format of a 4-D tensor stored NCHW-contiguous or channels_last (NHWC)
// contiguous: what the launches need to cut it into chunks and address it.
#pragma once

#include <cstdint>

namespace zfcuda {

struct Layout4d {
  int64_t n, c, h, w;
  bool channels_last;
};

}  // namespace zfcuda
