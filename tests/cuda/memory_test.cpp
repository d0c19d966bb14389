// Device buffers (round trips, moves, out-of-memory messages), pinned buffers and the pinned pool's
// blocking and exclusive leases across threads.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/cuda_test_support.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/cuda/memory.hpp"

namespace tilestream::cuda {
namespace {

using CudaMemory = testing::CudaTest;

std::vector<std::byte> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 random(seed);
  std::vector<std::byte> bytes(n);
  for (auto& b : bytes) b = static_cast<std::byte>(random() & 0xff);
  return bytes;
}

TEST_F(CudaMemory, DeviceBufferRoundTripsBytes) {
  Stream stream;
  for (const std::size_t size : {std::size_t{1}, std::size_t{1000003}, std::size_t{64} << 20}) {
    SCOPED_TRACE(size);
    const std::vector<std::byte> sent = random_bytes(size, static_cast<unsigned>(size));
    DeviceBuffer buffer(size, stream);
    EXPECT_EQ(buffer.size(), size);
    EXPECT_NE(buffer.data(), nullptr);
    EXPECT_EQ(buffer.device(), 0);
    copy_to_device(buffer, sent, stream);
    std::vector<std::byte> back(size);
    copy_to_host(back, buffer, stream);
    stream.synchronize();
    EXPECT_EQ(back, sent);
  }
}

TEST_F(CudaMemory, OffsetsFillAndRangeChecks) {
  Stream stream;
  DeviceBuffer buffer(100, stream);
  buffer.fill(0x5a, stream);
  const std::vector<std::byte> part(10, std::byte{1});
  copy_to_device(buffer, part, stream, 90);
  std::vector<std::byte> back(100);
  copy_to_host(back, buffer, stream);
  stream.synchronize();
  for (std::size_t i = 0; i < 100; ++i) EXPECT_EQ(back[i], i < 90 ? std::byte{0x5a} : std::byte{1}) << i;
  std::vector<std::byte> tail(5);
  copy_to_host(tail, buffer, stream, 88);
  stream.synchronize();
  EXPECT_EQ(tail[0], std::byte{0x5a});
  EXPECT_EQ(tail[2], std::byte{1});
  EXPECT_THROW(copy_to_device(buffer, part, stream, 91), UsageError);
  EXPECT_THROW(copy_to_host(tail, buffer, stream, 96), UsageError);
  EXPECT_THROW(copy_to_host(tail, buffer, stream, 1000), UsageError);
}

TEST_F(CudaMemory, EmptyAndMovedBuffersOwnNothing) {
  Stream stream;
  const DeviceBuffer empty(0, stream);
  EXPECT_EQ(empty.data(), nullptr);
  EXPECT_EQ(empty.size(), 0u);
  DeviceBuffer a(4096, stream);
  const std::byte* pointer = a.data();
  DeviceBuffer b = std::move(a);
  EXPECT_EQ(b.data(), pointer);
  EXPECT_EQ(b.size(), 4096u);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move)
  DeviceBuffer c(16, stream);
  c = std::move(b);  // frees c's old memory
  EXPECT_EQ(c.data(), pointer);
  stream.synchronize();
}

TEST_F(CudaMemory, OutOfMemoryNamesTheSizeAndTheFreeMemory) {
  Stream stream;
  const std::size_t petabyte = std::size_t{1} << 50;
  try {
    const DeviceBuffer huge(petabyte, stream);
    FAIL() << "allocated a petabyte";
  } catch (const CudaError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("out of memory"), std::string::npos) << message;
    EXPECT_NE(message.find(std::to_string(petabyte)), std::string::npos) << message;
    EXPECT_NE(message.find("free of"), std::string::npos) << message;
  }
  // The failure is not left behind for the next launch check, and the device still works.
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  DeviceBuffer small(1 << 20, stream);
  small.fill(0, stream);
  stream.synchronize();
}

TEST_F(CudaMemory, PinnedBuffersAreCopySourcesAndTargets) {
  Stream stream;
  PinnedBuffer pinned(1 << 20);
  ASSERT_EQ(pinned.size(), std::size_t{1} << 20);
  const std::vector<std::byte> sent = random_bytes(pinned.size(), 7);
  std::memcpy(pinned.data(), sent.data(), sent.size());
  DeviceBuffer device(pinned.size(), stream);
  copy_to_device(device, pinned.bytes(), stream);
  PinnedBuffer back(pinned.size());
  copy_to_host(back.bytes(), device, stream);
  stream.synchronize();
  EXPECT_EQ(std::memcmp(back.data(), sent.data(), sent.size()), 0);
  PinnedBuffer moved = std::move(back);
  EXPECT_EQ(back.data(), nullptr);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(moved.size(), sent.size());
}

TEST_F(CudaMemory, PoolLeasesAreReturnedOnDestruction) {
  PinnedBufferPool pool(2, 4096);
  EXPECT_EQ(pool.count(), 2u);
  EXPECT_EQ(pool.buffer_bytes(), 4096u);
  EXPECT_EQ(pool.free_count(), 2u);
  {
    const PinnedBufferPool::Lease a = pool.acquire();
    std::optional<PinnedBufferPool::Lease> b = pool.try_acquire();
    ASSERT_TRUE(b.has_value());
    EXPECT_NE(a.data(), b->data());
    EXPECT_EQ(a.size(), 4096u);
    EXPECT_EQ(pool.free_count(), 0u);
    EXPECT_FALSE(pool.try_acquire().has_value());
    PinnedBufferPool::Lease c = std::move(*b);
    EXPECT_FALSE(*b);
    b.reset();
    EXPECT_EQ(pool.free_count(), 0u);  // the moved-from lease gave nothing back
    c = PinnedBufferPool::Lease();
    EXPECT_EQ(pool.free_count(), 1u);
  }
  EXPECT_EQ(pool.free_count(), 2u);
  EXPECT_THROW(PinnedBufferPool(0, 16), UsageError);
  EXPECT_THROW(PinnedBufferPool(1, 0), UsageError);
}

TEST_F(CudaMemory, AcquireBlocksUntilALeaseComesBack) {
  PinnedBufferPool pool(1, 64);
  auto held = std::make_optional(pool.acquire());
  std::atomic<bool> acquired{false};
  auto waiter = std::async(std::launch::async, [&] {
    const PinnedBufferPool::Lease lease = pool.acquire();
    acquired = true;
    return lease.data();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(acquired.load());
  const std::byte* pointer = held->data();
  held.reset();
  ASSERT_EQ(waiter.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(waiter.get(), pointer);
  EXPECT_TRUE(acquired.load());
}

TEST_F(CudaMemory, LeasesAreExclusiveAcrossThreads) {
  constexpr std::size_t buffers = 3;
  constexpr int threads = 8;
  constexpr int rounds = 200;
  PinnedBufferPool pool(buffers, 256);
  std::atomic<int> in_use{0};
  std::atomic<int> most_in_use{0};
  std::atomic<int> clobbered{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int r = 0; r < rounds; ++r) {
        const PinnedBufferPool::Lease lease = pool.acquire();
        const int now = ++in_use;
        int seen = most_in_use.load();
        while (now > seen && !most_in_use.compare_exchange_weak(seen, now)) {
        }
        std::memset(lease.data(), t, lease.size());
        std::this_thread::yield();
        for (std::size_t i = 0; i < lease.size(); ++i) {
          if (lease.data()[i] != static_cast<std::byte>(t)) {
            ++clobbered;
            break;
          }
        }
        --in_use;
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(clobbered.load(), 0);
  EXPECT_LE(most_in_use.load(), static_cast<int>(buffers));
  EXPECT_EQ(pool.free_count(), buffers);
}

TEST_F(CudaMemory, LeasesOutliveThePool) {
  std::optional<PinnedBufferPool> pool(std::in_place, 1, 128);
  PinnedBufferPool::Lease lease = pool->acquire();
  pool.reset();
  std::memset(lease.data(), 1, lease.size());  // the memory is still pinned and ours
  EXPECT_EQ(lease.data()[127], std::byte{1});
}

}  // namespace
}  // namespace tilestream::cuda
