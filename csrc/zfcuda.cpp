// The zfcuda operator library: every schema, and the Python module that reports the build.
#include <pybind11/pybind11.h>
#include <torch/library.h>

#include "cpu/fast_paths.h"
#include "kernels/index_decoder.h"
#include "python/direct_calls.h"

#ifndef ZFCUDA_TORCH_VERSION
#error "ZFCUDA_TORCH_VERSION must be defined by the build"
#endif

TORCH_LIBRARY(zfcuda, m) {
  m.def(
      "max_pool2d_switches(Tensor input, int[2] kernel_size, int[2] stride, int[2] padding, int[2] dilation, "
      "bool ceil_mode) -> (Tensor, Tensor)");
  m.def(
      "unpool2d_switches(Tensor y, Tensor switches, int[2] input_size, int[2] kernel_size, int[2] stride, "
      "int[2] padding, int[2] dilation, bool validate=True) -> Tensor");
  m.def(
      "gather2d_switches(Tensor input, Tensor switches, int[2] kernel_size, int[2] stride, int[2] padding, "
      "int[2] dilation, bool validate=True) -> Tensor");
  m.def("occlusion_batch(Tensor image, Tensor positions, int[2] patch_size, Tensor fill) -> Tensor");
  m.def(
      "patched_crops(Tensor base, Tensor patches, Tensor patch_origins, Tensor crop_origins, int[2] crop_size, "
      "float pad) -> Tensor");
  m.def("conv_transpose2d_skip_zeros(Tensor input, Tensor weight, int[2] stride, int[2] dilation) -> Tensor");
}

namespace py = pybind11;

PYBIND11_MODULE(_C, m) {
  m.doc() = "zfcuda compiled operators (registered in torch.ops.zfcuda on import)";
  m.def("build_info", [] {
    py::dict info;
    info["torch_version"] = ZFCUDA_TORCH_VERSION;
#ifdef ZFCUDA_WITH_CUDA
    info["cuda"] = true;
    info["cuda_version"] = ZFCUDA_CUDA_VERSION;
    info["cuda_architectures"] = ZFCUDA_CUDA_ARCHS;
#else
    info["cuda"] = false;
    info["cuda_version"] = py::none();
    info["cuda_architectures"] = "";
#endif
    return info;
  }, "What this build compiled: torch version built against, CUDA yes/no, CUDA architectures.");
  m.def("_set_cpu_fast_paths", &zfcuda::cpu::set_fast_paths_enabled,
        "Testing aid: False makes the CPU kernels run the per-element bodies that the CUDA kernels run.");
  m.def("_cpu_fast_paths", &zfcuda::cpu::fast_paths_enabled);
  zfcuda::python::register_direct_calls(m);
  m.def("_set_max_chunk_elements", [](int64_t n) {
    zfcuda::max_chunk_elements.store(n > 0 ? std::min(n, zfcuda::kMaxChunkElements) : zfcuda::kMaxChunkElements);
  }, "Testing aid: cut every launch into chunks of at most n elements (0 restores the default).");
}
