#include "framework/prune/lsmr.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "framework/util/error.h"

namespace kprune {
namespace {

double sign(double v) { return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0); }

// Stable Givens rotation: returns (c, s, r) with [c s; -s c] [a; b] = [r; 0].
std::tuple<double, double, double> sym_ortho(double a, double b) {
  if (b == 0) return {sign(a), 0.0, std::abs(a)};
  if (a == 0) return {0.0, sign(b), std::abs(b)};
  if (std::abs(b) > std::abs(a)) {
    const double tau = a / b;
    const double s = sign(b) / std::sqrt(1 + tau * tau);
    const double c = s * tau;
    return {c, s, b / s};
  }
  const double tau = b / a;
  const double c = sign(a) / std::sqrt(1 + tau * tau);
  const double s = c * tau;
  return {c, s, a / c};
}

// CuPy's nrm2 of a float32 vector, as the oracle ran it: sqrt of the float32 dot product.
double float32_norm(const torch::Tensor& v) { return torch::sqrt(torch::dot(v, v)).item<float>(); }

}  // namespace

LsmrResult lsmr(const torch::Tensor& a_in, const torch::Tensor& b_in, const LsmrOptions& options) {
  if (a_in.dim() != 2 || b_in.dim() != 1 || b_in.size(0) != a_in.size(0)) {
    fail("lsmr: expected A [m, n] and b [m], got {} and {} dimensions", a_in.dim(), b_in.dim());
  }
  const torch::Tensor a = a_in.to(torch::kFloat32).contiguous();
  const torch::Tensor at = a.t().contiguous();
  const int64_t n = a.size(1);
  const int64_t max_iterations =
      options.max_iterations > 0 ? options.max_iterations : 5 * std::min(a.size(0), n);
  const double damp = options.damp;

  LsmrResult result;
  torch::Tensor u = b_in.to(torch::kFloat32).clone();
  const double normb = float32_norm(u);
  double beta = normb;
  torch::Tensor x = torch::zeros({n}, a.options());
  torch::Tensor v = torch::zeros({n}, a.options());
  double alpha = 0;
  if (beta > 0) {
    u.div_(beta);
    v = at.mv(u);
    alpha = float32_norm(v);
  }
  if (alpha > 0) v.div_(alpha);

  double zetabar = alpha * beta, alphabar = alpha;
  double rho = 1, rhobar = 1, cbar = 1, sbar = 0;
  torch::Tensor h = v.clone();
  torch::Tensor hbar = torch::zeros({n}, a.options());
  // Estimation of ‖r‖.
  double betadd = beta, betad = 0, rhodold = 1, tautildeold = 0, thetatilde = 0, zeta = 0, d = 0;
  // Estimation of ‖A‖ and cond(A).
  double norm_a2 = alpha * alpha, maxrbar = 0, minrbar = 1e100;
  double norm_a = alpha, cond_a = 1, normx = 0;
  const double ctol = options.conlim > 0 ? 1 / options.conlim : 0;
  double normr = beta;
  double normar = alpha * beta;
  result.x = x;
  result.normr = normr;
  result.normar = normar;
  result.norm_a = norm_a;
  result.cond_a = cond_a;
  if (normar == 0) return result;

  int istop = 0;
  int64_t itn = 0;
  for (itn = 1; itn <= max_iterations; ++itn) {
    // Bidiagonalisation: beta·u = A v − alpha·u, alpha·v = Aᵀ u − beta·v.
    u.mul_(-alpha).add_(a.mv(v));
    beta = float32_norm(u);
    if (beta > 0) {
      u.div_(beta);
      v.mul_(-beta).add_(at.mv(u));
      alpha = float32_norm(v);
      if (alpha > 0) v.div_(alpha);
    }
    const auto [chat, shat, alphahat] = sym_ortho(alphabar, damp);
    const double rhoold = rho;
    double c, s;
    std::tie(c, s, rho) = sym_ortho(alphahat, beta);
    const double thetanew = s * alpha;
    alphabar = c * alpha;

    const double rhobarold = rhobar;
    const double zetaold = zeta;
    const double thetabar = sbar * rho;
    const double rhotemp = cbar * rho;
    std::tie(cbar, sbar, rhobar) = sym_ortho(cbar * rho, thetanew);
    zeta = cbar * zetabar;
    zetabar = -sbar * zetabar;

    hbar.mul_(-(thetabar * rho / (rhoold * rhobarold))).add_(h);
    x.add_(hbar, zeta / (rho * rhobar));
    h.mul_(-(thetanew / rho)).add_(v);

    // ‖r‖ estimate.
    const double betaacute = chat * betadd;
    const double betacheck = -shat * betadd;
    const double betahat = c * betaacute;
    betadd = -s * betaacute;
    const double thetatildeold = thetatilde;
    const auto [ctildeold, stildeold, rhotildeold] = sym_ortho(rhodold, thetabar);
    thetatilde = stildeold * rhobar;
    rhodold = ctildeold * rhobar;
    betad = -stildeold * betad + ctildeold * betahat;
    tautildeold = (zetaold - thetatildeold * tautildeold) / rhotildeold;
    const double taud = (zeta - thetatilde * tautildeold) / rhodold;
    d += betacheck * betacheck;
    normr = std::sqrt(d + (betad - taud) * (betad - taud) + betadd * betadd);

    // ‖A‖ and cond(A) estimates.
    norm_a2 += beta * beta;
    norm_a = std::sqrt(norm_a2);
    norm_a2 += alpha * alpha;
    maxrbar = std::max(maxrbar, rhobarold);
    if (itn > 1) minrbar = std::min(minrbar, rhobarold);
    cond_a = std::max(maxrbar, rhotemp) / std::min(minrbar, rhotemp);

    // Stopping rules (the later tests take precedence, as in the reference).
    normar = std::abs(zetabar);
    normx = float32_norm(x);
    const double test1 = normr / normb;
    const double test2 =
        norm_a * normr != 0 ? normar / (norm_a * normr) : std::numeric_limits<double>::infinity();
    const double test3 = 1 / cond_a;
    const double t1 = test1 / (1 + norm_a * normx / normb);
    const double rtol = options.btol + options.atol * norm_a * normx / normb;
    if (itn >= max_iterations) istop = 7;
    if (1 + test3 <= 1) istop = 6;
    if (1 + test2 <= 1) istop = 5;
    if (1 + t1 <= 1) istop = 4;
    if (test3 <= ctol) istop = 3;
    if (test2 <= options.atol) istop = 2;
    if (test1 <= rtol) istop = 1;
    if (istop > 0) break;
  }
  result.x = x;
  result.istop = istop;
  result.iterations = std::min(itn, max_iterations);
  result.normr = normr;
  result.normar = normar;
  result.norm_a = norm_a;
  result.cond_a = cond_a;
  result.normx = normx;
  return result;
}

}  // namespace kprune
