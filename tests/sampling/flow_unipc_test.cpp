#include "core/sampling/flow_unipc.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "tests/support/tensor_compare.h"

namespace svgear {
namespace {

using Vec = std::vector<double>;

double toy_velocity(double x, double sigma) { return x * (0.5 + sigma) + 0.2 * std::sin(3.0 * x); }

at::Tensor toy_velocity(const at::Tensor& x, double sigma) {
  return x * (0.5 + sigma) + 0.2 * at::sin(3.0 * x);
}

// Upstream FlowUniPCMultistepScheduler.step written out element-wise in double, kept close to its
// structure (model_outputs window, lower_order_nums, the R / b system of UniC) so that it checks
// the sampler independently: order 2, bh2, predict_x0, lower_order_final, no disabled corrector.
class ReferenceUniPC {
 public:
  explicit ReferenceUniPC(std::vector<double> sigmas) : sigmas_(std::move(sigmas)) {}

  Vec step(const Vec& model_output, int k, Vec sample) {
    int num_steps = int(sigmas_.size()) - 1;
    Vec x0(sample.size());
    for (size_t e = 0; e < x0.size(); ++e) x0[e] = sample[e] - sigmas_[k] * model_output[e];
    if (k > 0 && !last_sample_.empty()) sample = corrector(x0, k);
    model_outputs_[0] = model_outputs_[1];
    model_outputs_[1] = x0;
    this_order_ = std::min({2, num_steps - k, lower_order_nums_ + 1});
    last_sample_ = sample;
    Vec next = predictor(sample, k);
    lower_order_nums_ = std::min(lower_order_nums_ + 1, 2);
    return next;
  }

 private:
  double lambda(int i) const { return std::log(1.0 - sigmas_[i]) - std::log(sigmas_[i]); }

  Vec predictor(const Vec& x, int k) const {
    double sigma_t = sigmas_[k + 1], sigma_s0 = sigmas_[k];
    double alpha_t = 1.0 - sigma_t;
    double h = std::log(alpha_t) - std::log(sigma_t) - lambda(k);
    double hh = -h;
    double h_phi_1 = std::expm1(hh);
    double b_h = std::expm1(hh);
    const Vec& m0 = model_outputs_[1];
    Vec out(x.size());
    for (size_t e = 0; e < x.size(); ++e) {
      double pred_res = 0.0;
      if (this_order_ == 2) {
        double rk = (lambda(k - 1) - lambda(k)) / h;
        pred_res = 0.5 * (model_outputs_[0][e] - m0[e]) / rk;
      }
      out[e] = sigma_t / sigma_s0 * x[e] - alpha_t * h_phi_1 * m0[e] - alpha_t * b_h * pred_res;
    }
    return out;
  }

  Vec corrector(const Vec& model_t, int k) const {
    int order = this_order_;
    double sigma_t = sigmas_[k], sigma_s0 = sigmas_[k - 1];
    double alpha_t = 1.0 - sigma_t;
    double h = lambda(k) - lambda(k - 1);
    double hh = -h;
    double h_phi_1 = std::expm1(hh);
    double h_phi_k = h_phi_1 / hh - 1.0;
    double b_h = std::expm1(hh);
    std::vector<double> rks;
    if (order == 2) rks.push_back((lambda(k - 2) - lambda(k - 1)) / h);
    rks.push_back(1.0);
    std::vector<double> b;
    double factorial = 1.0;
    for (int i = 1; i <= order; ++i) {
      b.push_back(h_phi_k * factorial / b_h);
      factorial *= i + 1;
      h_phi_k = h_phi_k / hh - 1.0 / factorial;
    }
    std::vector<double> rhos;
    if (order == 1) {
      rhos = {0.5};
    } else {  // R = [[1, 1], [rk, 1]] by Cramer's rule
      double det = 1.0 * 1.0 - 1.0 * rks[0];
      rhos = {(b[0] * 1.0 - 1.0 * b[1]) / det, (1.0 * b[1] - rks[0] * b[0]) / det};
    }
    const Vec& m0 = model_outputs_[1];
    Vec out(model_t.size());
    for (size_t e = 0; e < out.size(); ++e) {
      double corr_res = order == 2 ? rhos[0] * (model_outputs_[0][e] - m0[e]) / rks[0] : 0.0;
      double d1_t = model_t[e] - m0[e];
      out[e] = sigma_t / sigma_s0 * last_sample_[e] - alpha_t * h_phi_1 * m0[e] -
               alpha_t * b_h * (corr_res + rhos.back() * d1_t);
    }
    return out;
  }

  std::vector<double> sigmas_;
  Vec model_outputs_[2];
  Vec last_sample_;
  int lower_order_nums_ = 0;
  int this_order_ = 0;
};

at::Tensor as_tensor(const Vec& v, at::IntArrayRef shape) {
  return at::tensor(v, at::kDouble).view(shape);
}

TEST(FlowUniPC, RecoversCleanSampleOfLinearFlow) {
  at::manual_seed(3);
  at::Tensor x0 = at::randn({2, 4, 3, 5});
  at::Tensor noise = at::randn({2, 4, 3, 5});
  FlowUniPCSampler sampler(7, 5.0);
  const auto& sigmas = sampler.schedule().sigmas;

  at::Tensor x = (1.0 - sigmas[0]) * x0 + sigmas[0] * noise;
  for (int i = 0; i < sampler.num_steps(); ++i) {
    x = sampler.step(noise - x0, i, x);
    at::Tensor on_path = (1.0 - sigmas[i + 1]) * x0 + sigmas[i + 1] * noise;
    EXPECT_TRUE(test::tensors_close(x, on_path, 1e-5)) << "step " << i;
  }
  EXPECT_TRUE(test::tensors_close(x, x0, 1e-5));
}

TEST(FlowUniPC, MatchesDoubleReference) {
  at::manual_seed(4);
  at::Tensor start = at::randn({3, 7}, at::kDouble);
  // One sampler per trajectory: UniPC keeps a history.
  FlowUniPCSampler sampler(6, 5.0);
  FlowUniPCSampler sampler32(6, 5.0);
  const auto& sigmas = sampler.schedule().sigmas;
  ReferenceUniPC reference(sigmas);

  Vec ref(start.data_ptr<double>(), start.data_ptr<double>() + start.numel());
  at::Tensor x = start.clone();
  at::Tensor x32 = start.to(at::kFloat);
  for (int i = 0; i < sampler.num_steps(); ++i) {
    Vec v(ref.size());
    for (size_t e = 0; e < v.size(); ++e) v[e] = toy_velocity(ref[e], sigmas[i]);
    ref = reference.step(v, i, ref);
    x = sampler.step(toy_velocity(x, sigmas[i]), i, x);
    x32 = sampler32.step(toy_velocity(x32, sigmas[i]), i, x32);
    at::Tensor expected = as_tensor(ref, start.sizes());
    EXPECT_TRUE(test::tensors_close(x, expected, 1e-12)) << "step " << i;
    EXPECT_TRUE(test::tensors_close(x32, expected, 1e-5)) << "step " << i;
    EXPECT_EQ(x32.scalar_type(), at::kFloat);
  }
}

TEST(FlowUniPC, StepZeroStartsAFreshTrajectory) {
  at::manual_seed(5);
  at::Tensor start = at::randn({4, 4});
  FlowUniPCSampler sampler(4, 5.0);
  auto run = [&] {
    at::Tensor x = start;
    for (int i = 0; i < sampler.num_steps(); ++i) {
      x = sampler.step(toy_velocity(x, sampler.schedule().sigmas[i]), i, x);
    }
    return x;
  };
  at::Tensor first = run();
  at::Tensor second = run();
  EXPECT_TRUE(at::equal(first, second));
}

TEST(FlowUniPC, RejectsStepsOutOfOrder) {
  FlowUniPCSampler sampler(4, 5.0);
  at::Tensor x = at::zeros({2});
  EXPECT_THROW(sampler.step(x, 1, x), std::logic_error);
  sampler.step(x, 0, x);
  EXPECT_THROW(sampler.step(x, 2, x), std::logic_error);
  EXPECT_THROW(sampler.step(x, 4, x), std::out_of_range);
}

// One step lands on the clean estimate x − σ₀·v, σ₀ being the shifted σ_max = 0.999 (float32, as
// upstream stores its sigmas): written out here, not through the sampler's own predict_x0.
TEST(FlowUniPC, SingleStepLandsOnCleanEstimate) {
  at::Tensor x = at::full({3}, 2.0, at::kDouble);
  at::Tensor v = at::full({3}, 1.0, at::kDouble);
  FlowUniPCSampler sampler(1, 5.0);
  at::Tensor out = sampler.step(v, 0, x);
  const double sigma_max = double(float(0.999));
  const double sigma0 = double(float(5.0 * sigma_max / (1.0 + 4.0 * sigma_max)));
  EXPECT_TRUE(test::tensors_close(out, at::full({3}, 2.0 - sigma0, at::kDouble), 1e-12));
}

}  // namespace
}  // namespace svgear
