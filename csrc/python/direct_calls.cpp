// Direct Python bindings of the ops for eager calls: through the whole C++ dispatcher (autograd,
// dispatch modes, every backend), without torch.ops' Python layer, which costs about 4 us a call,
// as much as a small pooling kernel. zfcuda.ops uses them unless torch.compile is tracing or a
// tensor overrides __torch_function__ (both need torch.ops).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <torch/csrc/utils/pybind.h>

#include <vector>

#include "../op_handles.h"
#include "direct_calls.h"

namespace zfcuda::python {

namespace py = pybind11;
using Ints = std::vector<int64_t>;

void register_direct_calls(py::module_& m) {
  const auto no_gil = py::call_guard<py::gil_scoped_release>();
  m.def("max_pool2d_switches", [](const at::Tensor& input, const Ints& k, const Ints& s, const Ints& p, const Ints& d,
                                  bool ceil_mode) { return handles::max_pool2d_switches().call(input, k, s, p, d, ceil_mode); },
        no_gil);
  m.def("unpool2d_switches", [](const at::Tensor& y, const at::Tensor& switches, const Ints& input_size, const Ints& k,
                                const Ints& s, const Ints& p, const Ints& d, bool validate) {
          return handles::unpool2d_switches().call(y, switches, input_size, k, s, p, d, validate);
        },
        no_gil);
  m.def("gather2d_switches", [](const at::Tensor& input, const at::Tensor& switches, const Ints& k, const Ints& s,
                                const Ints& p, const Ints& d, bool validate) {
          return handles::gather2d_switches().call(input, switches, k, s, p, d, validate);
        },
        no_gil);
  m.def("occlusion_batch", [](const at::Tensor& image, const at::Tensor& positions, const Ints& patch_size,
                              const at::Tensor& fill) { return handles::occlusion_batch().call(image, positions, patch_size, fill); },
        no_gil);
  m.def("patched_crops", [](const at::Tensor& base, const at::Tensor& patches, const at::Tensor& patch_origins,
                            const at::Tensor& crop_origins, const Ints& crop_size, double pad) {
          return handles::patched_crops().call(base, patches, patch_origins, crop_origins, crop_size, pad);
        },
        no_gil);
}

}  // namespace zfcuda::python
