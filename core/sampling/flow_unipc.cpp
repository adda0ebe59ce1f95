#include "core/sampling/flow_unipc.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

namespace svgear {

namespace {

constexpr int kSolverOrder = 2;

}  // namespace

FlowUniPCSampler::FlowUniPCSampler(int num_steps, double shift)
    : Sampler(make_flow_schedule(num_steps, shift)) {}

double FlowUniPCSampler::lambda(int index) const {
  double s = sigma(index);
  return std::log(1.0 - s) - std::log(s);
}

at::Tensor FlowUniPCSampler::step(const at::Tensor& model_output, int step_index,
                                  const at::Tensor& sample) {
  check_step_index(step_index);
  if (step_index == 0) {
    x0_history_.clear();
    last_sample_ = at::Tensor();
    last_order_ = 0;
  } else if (step_index != next_step_) {
    throw std::logic_error("UniPC step " + std::to_string(step_index) + " out of order (expected " +
                           std::to_string(next_step_) + " or 0)");
  }
  at::Tensor x0 = predict_x0(model_output, step_index, sample);
  at::Tensor x = step_index > 0 ? correct(x0, step_index) : sample;

  x0_history_.push_back(x0);
  if (static_cast<int>(x0_history_.size()) > kSolverOrder) x0_history_.erase(x0_history_.begin());

  // Warm up from first order, and end with a first-order step onto sigma 0 (lower_order_final).
  int order = std::min({kSolverOrder, num_steps() - step_index, step_index + 1});
  last_sample_ = x;
  last_order_ = order;
  next_step_ = step_index + 1;
  return predict(x, step_index, order);
}

at::Tensor FlowUniPCSampler::predict(const at::Tensor& sample, int step_index, int order) const {
  const at::Tensor& m0 = x0_history_.back();
  double sigma_s = sigma(step_index);
  double sigma_t = sigma(step_index + 1);
  // Only the final, first-order step lands on sigma 0, where the update is the clean estimate
  // itself (upstream reaches the same value through log(0) = -inf and expm1(-inf) = -1).
  if (sigma_t == 0.0) return m0.clone();

  double alpha_t = 1.0 - sigma_t;
  double h = lambda(step_index + 1) - lambda(step_index);
  double h_phi_1 = std::expm1(-h);
  double b_h = h_phi_1;  // bh2
  at::Tensor x_t = (sigma_t / sigma_s) * sample - (alpha_t * h_phi_1) * m0;
  if (order == 2) {
    const at::Tensor& m1 = x0_history_[x0_history_.size() - 2];
    double rk = (lambda(step_index - 1) - lambda(step_index)) / h;
    // Order 2 uses rho = 1/2 instead of solving for it, as upstream does.
    x_t = x_t - (alpha_t * b_h * 0.5 / rk) * (m1 - m0);
  }
  return x_t;
}

at::Tensor FlowUniPCSampler::correct(const at::Tensor& x0, int step_index) const {
  const at::Tensor& m0 = x0_history_.back();
  double sigma_s = sigma(step_index - 1);
  double sigma_t = sigma(step_index);
  double alpha_t = 1.0 - sigma_t;
  double h = lambda(step_index) - lambda(step_index - 1);
  double hh = -h;
  double h_phi_1 = std::expm1(hh);
  double b_h = h_phi_1;  // bh2

  at::Tensor x_t = (sigma_t / sigma_s) * last_sample_ - (alpha_t * h_phi_1) * m0;
  at::Tensor d1_t = x0 - m0;
  if (last_order_ == 1) {
    return x_t - (alpha_t * b_h * 0.5) * d1_t;
  }
  // Order 2: solve [[1, 1], [rk, 1]] * rho = b for the weights of the older difference and d1_t.
  const at::Tensor& m1 = x0_history_[x0_history_.size() - 2];
  double rk = (lambda(step_index - 2) - lambda(step_index - 1)) / h;
  double phi_2 = h_phi_1 / hh - 1.0;
  double phi_3 = phi_2 / hh - 0.5;
  double b1 = phi_2 / b_h;
  double b2 = 2.0 * phi_3 / b_h;
  double rho_1 = (b1 - b2) / (1.0 - rk);
  double rho_t = b1 - rho_1;
  at::Tensor d1 = (m1 - m0) / rk;
  return x_t - (alpha_t * b_h) * (rho_1 * d1 + rho_t * d1_t);
}

}  // namespace svgear
