#pragma once
// Runs Launch<In, Out>::run(args, stream) for the CUDA types of a row kernel's input and output
// elements: the one place where RowElement becomes __nv_bfloat16 / __half / float.

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include "kernels/common/row_element.h"

namespace svgear {

template <template <typename, typename> class Launch, typename In, typename Args>
void dispatch_row_output(RowElement output, const Args& args, cudaStream_t stream) {
  switch (output) {
    case RowElement::BFloat16: Launch<In, __nv_bfloat16>::run(args, stream); break;
    case RowElement::Float16: Launch<In, __half>::run(args, stream); break;
    case RowElement::Float32: Launch<In, float>::run(args, stream); break;
  }
}

template <template <typename, typename> class Launch, typename Args>
void dispatch_row_elements(RowElement input, RowElement output, const Args& args, cudaStream_t stream) {
  switch (input) {
    case RowElement::BFloat16: dispatch_row_output<Launch, __nv_bfloat16>(output, args, stream); break;
    case RowElement::Float16: dispatch_row_output<Launch, __half>(output, args, stream); break;
    case RowElement::Float32: dispatch_row_output<Launch, float>(output, args, stream); break;
  }
}

}  // namespace svgear
