// Direct Python bindings of the ops (see direct_calls.cpp).
#pragma once

#include <pybind11/pybind11.h>

namespace zfcuda::python {

void register_direct_calls(pybind11::module_& m);

}  // namespace zfcuda::python
