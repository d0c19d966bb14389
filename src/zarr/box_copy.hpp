// N-dimensional copies of C-order arrays of fixed-size elements: a box from one array into another
// (splitting shards into chunks, assembling regions from blocks) and axis permutation (transpose codec).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tilestream::zarr {

std::uint64_t element_count(std::span<const std::uint64_t> shape);

// Copies the box [src_origin, src_origin + extent) of `src` (shape src_shape) to
// [dst_origin, dst_origin + extent) of `dst` (shape dst_shape). All C order, elements of elsize bytes.
// The caller guarantees the boxes lie inside both arrays.
void copy_box(const std::byte* src, std::span<const std::uint64_t> src_shape,
              std::span<const std::uint64_t> src_origin, std::byte* dst,
              std::span<const std::uint64_t> dst_shape, std::span<const std::uint64_t> dst_origin,
              std::span<const std::uint64_t> extent, std::size_t elsize);

// Zarr's transpose: the result has shape[k] = src_shape[order[k]] and
// result[j] = src[i] where i[order[k]] = j[k].
std::vector<std::byte> permute_axes(std::span<const std::byte> src, std::span<const std::uint64_t> src_shape,
                                    std::span<const int> order, std::size_t elsize);
// The order that undoes `order`.
std::vector<int> inverse_order(std::span<const int> order);

// Reverses the bytes of each element (big-endian hosts: Zarr stores little endian).
void swap_bytes(std::span<std::byte> data, std::size_t elsize);

}  // namespace tilestream::zarr
