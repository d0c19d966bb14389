// Chain: shapes forwards, boxes backwards, and the CPU run through intermediate tiles.
#include "tilestream/ops/chain.hpp"

#include <cstring>

#include "tilestream/core/error.hpp"
#include "tilestream/core/host_image.hpp"

namespace tilestream::ops {

Chain::Chain(std::vector<std::unique_ptr<Op>> ops) : ops_(std::move(ops)) {
  for (const auto& op : ops_) check<UsageError>(op != nullptr, "op chain: null op");
}

Chain Chain::parse(std::span<const std::string> specs) {
  check<UsageError>(!specs.empty(), "no op given; ops:\n", describe_ops());
  std::vector<std::unique_ptr<Op>> ops;
  for (const std::string& spec : specs) ops.push_back(make_op(spec));
  return Chain(std::move(ops));
}

std::string Chain::spec() const {
  std::string text;
  for (const auto& op : ops_) text += (text.empty() ? "" : " | ") + op->spec();
  return text;
}

std::vector<ImageShape> Chain::shapes(const ImageShape& in) const {
  std::vector<ImageShape> shapes{in};
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    try {
      shapes.push_back(ops_[i]->output_shape(shapes.back()));
    } catch (const Error& e) {
      rethrow_with_context(
          e, concat("op ", i + 1, " of ", ops_.size(), " on ", shapes.back().width, "x", shapes.back().height,
                    "x", shapes.back().samples, " ", to_string(shapes.back().dtype)));
    }
  }
  return shapes;
}

std::vector<Box> Chain::input_boxes(const Box& out, const ImageShape& in) const {
  const std::vector<ImageShape> s = shapes(in);
  const ImageShape& last = s.back();
  check<UsageError>(!out.empty() && out.y + out.height <= last.height && out.x + out.width <= last.width,
                    "output box ", out.width, "x", out.height, "+", out.x, "+", out.y,
                    " is empty or not inside the ", last.width, "x", last.height, " output of ", spec());
  std::vector<Box> boxes(ops_.size() + 1);
  boxes.back() = out;
  for (std::size_t i = ops_.size(); i-- > 0;) boxes[i] = ops_[i]->input_box(boxes[i + 1], s[i]);
  return boxes;
}

std::size_t Chain::scratch_bytes(const Box& out, const ImageShape& in) const {
  const std::vector<ImageShape> s = shapes(in);
  const std::vector<Box> boxes = input_boxes(out, in);
  std::size_t bytes = 0;
  for (std::size_t i = 1; i < ops_.size(); ++i)
    bytes += boxes[i].height * boxes[i].width * s[i].pixel_bytes();
  return bytes;
}

void Chain::run_cpu(const ConstTileView& in, const ImageShape& in_shape, const TileView& out) const {
  const std::vector<ImageShape> s = shapes(in_shape);
  const std::vector<Box> boxes = input_boxes(out.box, in_shape);
  check<UsageError>(in.box == boxes.front(), "op chain ", spec(), ": input tile ", in.box.width, "x",
                    in.box.height, "+", in.box.x, "+", in.box.y, " is not the box the output needs, ",
                    boxes.front().width, "x", boxes.front().height, "+", boxes.front().x, "+",
                    boxes.front().y);
  if (ops_.empty()) {  // the identity: in.box is out.box
    const std::size_t row = out.box.width * in_shape.pixel_bytes();
    for (std::uint64_t y = 0; y < out.box.height; ++y)
      std::memcpy(out.data + y * out.row_stride, in.data + y * in.row_stride, row);
    return;
  }
  ConstTileView current = in;
  HostImage held;  // the intermediate `current` points into
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    if (i + 1 == ops_.size()) {
      ops_[i]->run_cpu(current, s[i], out);
      break;
    }
    HostImage next(boxes[i + 1].height, boxes[i + 1].width, s[i + 1].samples, s[i + 1].dtype);
    ops_[i]->run_cpu(current, s[i], TileView{next.data(), next.row_bytes(), boxes[i + 1]});
    held = std::move(next);
    current = ConstTileView{held.data(), held.row_bytes(), boxes[i + 1]};
  }
}

}  // namespace tilestream::ops
