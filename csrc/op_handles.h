// Typed dispatcher handles of zfcuda's ops, looked up once: calls that go through the whole
// dispatcher (autograd included) from C++, as torch's own C++ API calls its ops.
#pragma once

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <tuple>

namespace zfcuda::handles {

using MaxPool2dSwitches = std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, at::IntArrayRef, at::IntArrayRef,
                                                             at::IntArrayRef, at::IntArrayRef, bool);
using Unpool2dSwitches = at::Tensor(const at::Tensor&, const at::Tensor&, at::IntArrayRef, at::IntArrayRef,
                                    at::IntArrayRef, at::IntArrayRef, at::IntArrayRef, bool);
using Gather2dSwitches = at::Tensor(const at::Tensor&, const at::Tensor&, at::IntArrayRef, at::IntArrayRef,
                                    at::IntArrayRef, at::IntArrayRef, bool);
using OcclusionBatch = at::Tensor(const at::Tensor&, const at::Tensor&, at::IntArrayRef, const at::Tensor&);
using PatchedCrops = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                at::IntArrayRef, double);

const c10::TypedOperatorHandle<MaxPool2dSwitches>& max_pool2d_switches();
const c10::TypedOperatorHandle<Unpool2dSwitches>& unpool2d_switches();
const c10::TypedOperatorHandle<Gather2dSwitches>& gather2d_switches();
const c10::TypedOperatorHandle<OcclusionBatch>& occlusion_batch();
const c10::TypedOperatorHandle<PatchedCrops>& patched_crops();

}  // namespace zfcuda::handles
