#include "tests/kernels/synthetic_layout.h"

#include <ATen/ATen.h>

namespace svgear::test {
namespace {

SyntheticLayout layout_from_labels(const at::Tensor& labels, int64_t clusters) {
  SyntheticLayout layout;
  layout.labels = labels;
  layout.order = std::get<1>(at::sort(labels, /*stable=*/true, 1, /*descending=*/false));  // [BH, N]
  layout.sizes = at::zeros({labels.size(0), clusters}, labels.options())
                     .scatter_add_(1, labels, at::ones_like(labels));  // [BH, C]
  layout.offsets = at::cat({at::zeros({labels.size(0), 1}, labels.options()), layout.sizes.cumsum(1)}, 1);  // [BH, C+1]
  return layout;
}

}  // namespace

SyntheticLayout random_layout(int64_t bh, int64_t tokens, int64_t clusters) {
  at::Tensor labels = at::randint(2, clusters, {bh, tokens}, at::kLong);  // [BH, N]: clusters 0 and 1 unused
  labels.select(1, 0).fill_(1);                                           // cluster 1: exactly token 0
  labels = (labels + at::arange(bh, at::kLong).unsqueeze(1)) % clusters;  // rotate per head
  return layout_from_labels(labels, clusters);
}

SyntheticLayout layout_of_sizes(int64_t bh, const std::vector<int64_t>& sizes) {
  const int64_t clusters = static_cast<int64_t>(sizes.size());
  std::vector<at::Tensor> heads;
  for (int64_t h = 0; h < bh; ++h) {
    std::vector<int64_t> labels;
    for (int64_t c = 0; c < clusters; ++c) labels.insert(labels.end(), sizes[(c + h) % clusters], c);
    at::Tensor head = at::tensor(labels, at::kLong);  // [N]
    heads.push_back(head.index_select(0, at::randperm(head.numel(), at::kLong)));
  }
  return layout_from_labels(at::stack(heads), clusters);
}

at::Tensor permute_rows(const at::Tensor& x, const at::Tensor& order) {
  return x.gather(1, order.unsqueeze(-1).expand({x.size(0), x.size(1), x.size(2)}));  // [BH, N, d]
}

at::Tensor cluster_means(const at::Tensor& x, const SyntheticLayout& layout, const at::Tensor& fill) {
  const int64_t clusters = layout.sizes.size(1);
  at::Tensor x32 = x.to(at::kFloat);
  at::Tensor index = layout.labels.unsqueeze(-1).expand({x.size(0), x.size(1), x.size(2)});  // [BH, N, d]
  at::Tensor sums = at::zeros({x.size(0), clusters, x.size(2)}, x32.options()).scatter_add_(1, index, x32);  // [BH, C, d]
  at::Tensor counts = layout.sizes.unsqueeze(-1).to(at::kFloat);  // [BH, C, 1]
  return at::where(counts > 0, sums / counts.clamp_min(1.0), fill.to(at::kFloat));
}

}  // namespace svgear::test
