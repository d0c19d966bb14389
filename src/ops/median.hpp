// median's class, for its CPU run (median.cpp) and its CUDA twin (median.cu), which takes the window
// size from it.
#pragma once

#include <cstdint>

#include "tilestream/ops/op.hpp"

namespace tilestream::ops::detail {

class Median final : public Op {
 public:
  explicit Median(std::uint32_t size);
  // K, the side of the square window (odd).
  std::uint32_t size() const { return size_; }

  std::uint32_t halo() const override { return size_ / 2; }
  ImageShape output_shape(const ImageShape& in) const override;
  void run_cpu(const ConstTileView& in, const ImageShape& in_shape, const TileView& out) const override;

 private:
  template <class S>
  void run(const ConstTileView& in, const ImageShape& shape, const TileView& out) const;

  std::uint32_t size_;
};

}  // namespace tilestream::ops::detail
