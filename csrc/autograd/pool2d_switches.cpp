// Autograd of the pooled-plane ops in C++: pooling <-> unpooling <-> gathering, each the backward of
// the next. Registered at the Autograd key so a call with no gradient costs one C++ hop, not a
// Python autograd kernel (which cost about 8 us a call, as much as the small kernels themselves).
#include <torch/autograd.h>
#include <torch/library.h>

#include <tuple>
#include <vector>

#include "../op_handles.h"

namespace zfcuda::autograd {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using IntList = std::vector<int64_t>;

// Backward calls pass validate = false: our own switches need no check (which syncs on CUDA).
at::Tensor unpool(const at::Tensor& y, const at::Tensor& switches, at::IntArrayRef input_size, at::IntArrayRef k,
                  at::IntArrayRef s, at::IntArrayRef p, at::IntArrayRef d) {
  return handles::unpool2d_switches().call(y, switches, input_size, k, s, p, d, false);
}

at::Tensor gather(const at::Tensor& x, const at::Tensor& switches, at::IntArrayRef k, at::IntArrayRef s,
                  at::IntArrayRef p, at::IntArrayRef d) {
  return handles::gather2d_switches().call(x, switches, k, s, p, d, false);
}

// The window arguments, kept for the backward.
void save_window(AutogradContext* ctx, at::IntArrayRef k, at::IntArrayRef s, at::IntArrayRef p, at::IntArrayRef d) {
  ctx->saved_data["k"] = k.vec();
  ctx->saved_data["s"] = s.vec();
  ctx->saved_data["p"] = p.vec();
  ctx->saved_data["d"] = d.vec();
}

IntList saved(AutogradContext* ctx, const char* key) { return ctx->saved_data[key].toIntVector(); }

IntList plane_size(const at::Tensor& t) { return {t.size(-2), t.size(-1)}; }

struct MaxPool : torch::autograd::Function<MaxPool> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& input, at::IntArrayRef k, at::IntArrayRef s,
                               at::IntArrayRef p, at::IntArrayRef d, bool ceil_mode) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    auto [y, switches] = handles::max_pool2d_switches().call(input, k, s, p, d, ceil_mode);
    ctx->mark_non_differentiable({switches});
    ctx->save_for_backward({switches});
    ctx->saved_data["input_size"] = plane_size(input);
    save_window(ctx, k, s, p, d);
    return {y, switches};
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto switches = ctx->get_saved_variables()[0];
    auto grad = unpool(grads[0], switches, saved(ctx, "input_size"), saved(ctx, "k"), saved(ctx, "s"),
                       saved(ctx, "p"), saved(ctx, "d"));
    return {grad, {}, {}, {}, {}, {}};
  }
};

struct Unpool : torch::autograd::Function<Unpool> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& y, const at::Tensor& switches,
                               at::IntArrayRef input_size, at::IntArrayRef k, at::IntArrayRef s, at::IntArrayRef p,
                               at::IntArrayRef d, bool validate) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    auto x = handles::unpool2d_switches().call(y, switches, input_size, k, s, p, d, validate);
    ctx->save_for_backward({switches});
    save_window(ctx, k, s, p, d);
    return {x};
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto switches = ctx->get_saved_variables()[0];
    auto grad = gather(grads[0], switches, saved(ctx, "k"), saved(ctx, "s"), saved(ctx, "p"), saved(ctx, "d"));
    return {grad, {}, {}, {}, {}, {}, {}, {}};
  }
};

struct Gather : torch::autograd::Function<Gather> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& switches,
                               at::IntArrayRef k, at::IntArrayRef s, at::IntArrayRef p, at::IntArrayRef d,
                               bool validate) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    auto y = handles::gather2d_switches().call(input, switches, k, s, p, d, validate);
    ctx->save_for_backward({switches});
    ctx->saved_data["input_size"] = plane_size(input);
    save_window(ctx, k, s, p, d);
    return {y};
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto switches = ctx->get_saved_variables()[0];
    auto grad = unpool(grads[0], switches, saved(ctx, "input_size"), saved(ctx, "k"), saved(ctx, "s"),
                       saved(ctx, "p"), saved(ctx, "d"));
    return {grad, {}, {}, {}, {}, {}, {}};
  }
};

// No graph to record (no grad mode, or no input that needs one): the kernel alone, as ATen's own
// autograd kernels do, without building the context a backward would need.
bool records_graph(const at::Tensor& input) { return at::GradMode::is_enabled() && input.requires_grad(); }

std::tuple<at::Tensor, at::Tensor> max_pool2d_switches(const at::Tensor& input, at::IntArrayRef k, at::IntArrayRef s,
                                                       at::IntArrayRef p, at::IntArrayRef d, bool ceil_mode) {
  if (!records_graph(input)) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    return handles::max_pool2d_switches().call(input, k, s, p, d, ceil_mode);
  }
  auto out = MaxPool::apply(input, k, s, p, d, ceil_mode);
  return {out[0], out[1]};
}

at::Tensor unpool2d_switches(const at::Tensor& y, const at::Tensor& switches, at::IntArrayRef input_size,
                             at::IntArrayRef k, at::IntArrayRef s, at::IntArrayRef p, at::IntArrayRef d,
                             bool validate) {
  if (!records_graph(y)) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    return handles::unpool2d_switches().call(y, switches, input_size, k, s, p, d, validate);
  }
  return Unpool::apply(y, switches, input_size, k, s, p, d, validate)[0];
}

at::Tensor gather2d_switches(const at::Tensor& input, const at::Tensor& switches, at::IntArrayRef k, at::IntArrayRef s,
                             at::IntArrayRef p, at::IntArrayRef d, bool validate) {
  if (!records_graph(input)) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    return handles::gather2d_switches().call(input, switches, k, s, p, d, validate);
  }
  return Gather::apply(input, switches, k, s, p, d, validate)[0];
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, Autograd, m) {
  m.impl("max_pool2d_switches", &max_pool2d_switches);
  m.impl("unpool2d_switches", &unpool2d_switches);
  m.impl("gather2d_switches", &gather2d_switches);
}

}  // namespace zfcuda::autograd
