// Transposed convolution of a mostly-zero input, as a scatter of its non-zero elements.
//
// The deconvnet's inputs to each transposed convolution come out of an unpooling (one non-zero
// per pooling window) and a ReLU, so on a CPU most multiply-adds of a dense transposed
// convolution multiply zeros. Scattering only the non-zero inputs does the same sum with a
// fraction of the work. On a GPU the dense cuDNN convolution is the faster choice, so this op
// has a CPU kernel only (zfcuda.deconv_crop picks per device). Its argument checks stay here:
// plans/ holds the checks that a CPU and a CUDA entry point share.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <vector>

#include "../checks.h"
#include "clones.h"

namespace zfcuda::cpu {
namespace {

struct ScatterGeometry {
  int64_t channels, in_h, in_w;      // input
  int64_t xc, xh, xw;                // input strides
  int64_t kh, kw, channels_out;      // weight
  int64_t out_h, out_w;              // output
  int64_t stride_h, stride_w, dilation_h, dilation_w;
};

// One sample: x points at its (0, 0, 0), out at its (0, 0, 0) of an (H_out, W_out, O) contiguous
// block that is zero on entry; weight_t is (C, kh, kw, O) contiguous; block is kh * kw * O scratch.
// For each input position, the non-zero channels' filters are summed into `block` (one flat,
// vectorised loop per non-zero), which is then added to the output window once.
template <typename scalar_t>
ZF_CPU_CLONES void scatter_sample(const scalar_t* __restrict__ x, const scalar_t* __restrict__ weight_t,
                                  scalar_t* __restrict__ out, scalar_t* __restrict__ block, const ScatterGeometry& g) {
  const int64_t O = g.channels_out, filter = g.kh * g.kw * O;
  for (int64_t u = 0; u < g.in_h; ++u) {
    for (int64_t v = 0; v < g.in_w; ++v) {
      const scalar_t* xp = x + u * g.xh + v * g.xw;
      bool any = false;
      for (int64_t c = 0; c < g.channels; ++c) {
        const scalar_t value = xp[c * g.xc];
        if (value == scalar_t(0)) continue;  // NaN and inf are scattered, as a dense sum would
        const scalar_t* w = weight_t + c * filter;
        if (!any) {
          for (int64_t j = 0; j < filter; ++j) block[j] = value * w[j];
          any = true;
        } else {
          for (int64_t j = 0; j < filter; ++j) block[j] += value * w[j];
        }
      }
      if (!any) continue;
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        scalar_t* row = out + ((u * g.stride_h + ky * g.dilation_h) * g.out_w + v * g.stride_w) * O;
        const scalar_t* src = block + ky * g.kw * O;
        if (g.dilation_w == 1) {  // the kernel row's outputs are kw * O contiguous values
          for (int64_t j = 0; j < g.kw * O; ++j) row[j] += src[j];
        } else {
          for (int64_t kx = 0; kx < g.kw; ++kx)
            for (int64_t o = 0; o < O; ++o) row[kx * g.dilation_w * O + o] += src[kx * O + o];
        }
      }
    }
  }
}

at::Tensor conv_transpose2d_skip_zeros(const at::Tensor& input, const at::Tensor& weight, at::IntArrayRef stride,
                                       at::IntArrayRef dilation) {
  constexpr const char* op = "conv_transpose2d_skip_zeros";
  TORCH_CHECK_VALUE(input.dim() == 4, op, ": input must be 4-D (N, C, H, W), got shape ",
                    shape_string(input.sizes()));
  TORCH_CHECK_VALUE(weight.dim() == 4, op, ": weight must be 4-D (C_in, C_out, kH, kW), got shape ",
                    shape_string(weight.sizes()));
  TORCH_CHECK_TYPE(input.scalar_type() == at::kFloat || input.scalar_type() == at::kDouble, op,
                   ": input must be float32 or float64, got ", input.scalar_type());
  TORCH_CHECK_TYPE(weight.scalar_type() == input.scalar_type(), op, ": weight must have input's dtype ",
                   input.scalar_type(), ", got ", weight.scalar_type());
  check_same_device(input, "input", weight, "weight", op);
  TORCH_CHECK_VALUE(weight.size(0) == input.size(1), op, ": weight.size(0) must equal input's channels ",
                    input.size(1), ", got weight of shape ", shape_string(weight.sizes()));
  check_pair(stride, 1, op, "stride");
  check_pair(dilation, 1, op, "dilation");
  const int64_t kh = weight.size(2), kw = weight.size(3), O = weight.size(1);
  TORCH_CHECK_VALUE(kh >= 1 && kw >= 1 && O >= 1, op, ": weight must not be empty, got shape ",
                    shape_string(weight.sizes()));
  TORCH_CHECK_VALUE(input.size(1) >= 1 && input.size(2) >= 1 && input.size(3) >= 1, op,
                    ": input must have channels, height and width >= 1, got shape ", shape_string(input.sizes()));
  const int64_t out_h = (input.size(2) - 1) * stride[0] + dilation[0] * (kh - 1) + 1;
  const int64_t out_w = (input.size(3) - 1) * stride[1] + dilation[1] * (kw - 1) + 1;
  auto out = at::zeros({input.size(0), out_h, out_w, O}, input.options());
  const auto weight_t = weight.permute({0, 2, 3, 1}).contiguous();  // (C, kh, kw, O)
  const ScatterGeometry g{input.size(1), input.size(2), input.size(3), input.stride(1), input.stride(2), input.stride(3),
                          kh, kw, O, out_h, out_w, stride[0], stride[1], dilation[0], dilation[1]};
  const int64_t sample_stride = input.stride(0), out_sample = out_h * out_w * O;
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), op, [&] {
    const scalar_t* x = input.const_data_ptr<scalar_t>();
    const scalar_t* w = weight_t.const_data_ptr<scalar_t>();
    scalar_t* o = out.mutable_data_ptr<scalar_t>();
    // Samples are independent: they run in parallel, each in its own output block.
    at::parallel_for(0, input.size(0), 1, [&](int64_t begin, int64_t end) {
      std::vector<scalar_t> block(kh * kw * O);
      for (int64_t s = begin; s < end; ++s) scatter_sample(x + s * sample_stride, w, o + s * out_sample, block.data(), g);
    });
  });
  return out.permute({0, 3, 1, 2});  // (N, O, H_out, W_out), channels_last in memory
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CPU, m) { m.impl("conv_transpose2d_skip_zeros", &conv_transpose2d_skip_zeros); }

}  // namespace zfcuda::cpu
