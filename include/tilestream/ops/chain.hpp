// A chain of ops applied one after the other: shapes go forwards through it, and the input box an
// output box needs goes backwards (each op's input_box in turn), so that a tiled run reads exactly
// what the whole chain needs around each output tile.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tilestream/ops/op.hpp"

namespace tilestream::ops {

class Chain {
 public:
  // Immutable afterwards; every method is thread-safe. No ops: the identity (a dataset copied as it
  // is read, as convert writes a stored level of the slide's dtype).
  explicit Chain(std::vector<std::unique_ptr<Op>> ops = {});
  // make_op on each spec, in order. UsageError for an empty list (a user's chain names an op) or a
  // bad spec.
  static Chain parse(std::span<const std::string> specs);

  std::size_t size() const { return ops_.size(); }
  const Op& op(std::size_t i) const { return *ops_.at(i); }
  // The canonical specs joined by " | ": "absorbance | gaussian:sigma=2.5".
  std::string spec() const;
  bool empty() const { return ops_.empty(); }

  // shapes[0] = in, shapes[i + 1] = op i's output. UsageError (naming the op and its position) when
  // an op does not take what the op before gives.
  std::vector<ImageShape> shapes(const ImageShape& in) const;
  ImageShape output_shape(const ImageShape& in) const { return shapes(in).back(); }

  // boxes[size()] = out, boxes[i] = op i's input box for boxes[i + 1]: boxes[0] is what to read from
  // the source image `in`. `out` must lie inside output_shape(in).
  std::vector<Box> input_boxes(const Box& out, const ImageShape& in) const;
  Box input_box(const Box& out, const ImageShape& in) const { return input_boxes(out, in).front(); }

  // Runs every op on the CPU: `in` covers exactly input_box(out.box, in_shape) of an image of shape
  // `in_shape`; out.box is written. Intermediate tiles are allocated here (scratch_bytes of them).
  void run_cpu(const ConstTileView& in, const ImageShape& in_shape, const TileView& out) const;
  // Bytes of the intermediate tiles run_cpu holds for output box `out` (for memory budgets).
  std::size_t scratch_bytes(const Box& out, const ImageShape& in) const;

 private:
  std::vector<std::unique_ptr<Op>> ops_;
};

}  // namespace tilestream::ops
