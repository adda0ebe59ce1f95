#pragma once
// The RowElement of an ATen dtype, for the row kernels' adapters (.cpp); nullopt where no kernel
// handles the dtype (the op then takes its ATen reference).

#include <optional>

#include <c10/core/ScalarType.h>

#include "kernels/common/row_element.h"

namespace svgear {

inline std::optional<RowElement> row_element_of(c10::ScalarType dtype) {
  if (dtype == c10::kBFloat16) return RowElement::BFloat16;
  if (dtype == c10::kHalf) return RowElement::Float16;
  if (dtype == c10::kFloat) return RowElement::Float32;
  return std::nullopt;
}

}  // namespace svgear
