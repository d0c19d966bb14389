// gaussian's class, for its CPU run (gaussian.cpp) and its CUDA twin (gaussian.cu), which takes the
// kernel weights from it.
#pragma once

#include <cstdint>
#include <vector>

#include "tilestream/ops/op.hpp"

namespace tilestream::ops::detail {

class Gaussian final : public Op {
 public:
  explicit Gaussian(double sigma);
  double sigma() const { return sigma_; }
  // w[0..halo()] for offsets 0..halo(): gaussian_weights(sigma()).
  const std::vector<double>& weights() const { return weights_; }

  std::uint32_t halo() const override { return radius_; }
  ImageShape output_shape(const ImageShape& in) const override;
  void run_cpu(const ConstTileView& in, const ImageShape& in_shape, const TileView& out) const override;

 private:
  template <class S>
  void run(const ConstTileView& in, const ImageShape& shape, const TileView& out) const;

  double sigma_;
  std::uint32_t radius_;
  std::vector<double> weights_;
};

}  // namespace tilestream::ops::detail
