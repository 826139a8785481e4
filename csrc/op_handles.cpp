// The typed dispatcher handles of op_handles.h, each looked up on first use.
#include "op_handles.h"

namespace zfcuda::handles {
namespace {

template <typename Signature>
c10::TypedOperatorHandle<Signature> lookup(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Signature>();
}

}  // namespace

const c10::TypedOperatorHandle<MaxPool2dSwitches>& max_pool2d_switches() {
  static const auto handle = lookup<MaxPool2dSwitches>("zfcuda::max_pool2d_switches");
  return handle;
}
const c10::TypedOperatorHandle<Unpool2dSwitches>& unpool2d_switches() {
  static const auto handle = lookup<Unpool2dSwitches>("zfcuda::unpool2d_switches");
  return handle;
}
const c10::TypedOperatorHandle<Gather2dSwitches>& gather2d_switches() {
  static const auto handle = lookup<Gather2dSwitches>("zfcuda::gather2d_switches");
  return handle;
}
const c10::TypedOperatorHandle<OcclusionBatch>& occlusion_batch() {
  static const auto handle = lookup<OcclusionBatch>("zfcuda::occlusion_batch");
  return handle;
}
const c10::TypedOperatorHandle<PatchedCrops>& patched_crops() {
  static const auto handle = lookup<PatchedCrops>("zfcuda::patched_crops");
  return handle;
}

}  // namespace zfcuda::handles
