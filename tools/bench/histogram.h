#ifndef LINECHANNEL_TOOLS_BENCH_HISTOGRAM_H_
#define LINECHANNEL_TOOLS_BENCH_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstdint>

namespace linechannel::bench {

// Latencies in microseconds, in log-linear buckets: exact below 128 us, then 64 buckets per
// power of two (under 1.6% error), up to about 2^40 us. Record() is lock-free and may be
// called from any thread; read the results once every Record() has returned.
class Histogram {
 public:
  void Record(uint64_t micros) {
    buckets_[Index(micros)].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(micros, std::memory_order_relaxed);
    uint64_t seen = max_.load(std::memory_order_relaxed);
    while (micros > seen &&
           !max_.compare_exchange_weak(seen, micros, std::memory_order_relaxed)) {
    }
  }

  uint64_t count() const { return count_.load(); }
  uint64_t max() const { return max_.load(); }
  double mean() const { return count() == 0 ? 0 : static_cast<double>(sum_.load()) / count(); }

  // The smallest recorded value (bucket midpoint) at or above which lies the fraction
  // 1 - `quantile` of the values; 0 when empty.
  uint64_t Percentile(double quantile) const {
    const uint64_t total = count();
    if (total == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(quantile * static_cast<double>(total) + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > total) rank = total;
    uint64_t seen = 0;
    for (size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i].load(std::memory_order_relaxed);
      if (seen >= rank) {
        const uint64_t value = Midpoint(i);
        return value > max() ? max() : value;
      }
    }
    return max();
  }

 private:
  static constexpr int kSubBits = 6;
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  static constexpr size_t kBuckets = 40 * kSub;

  static size_t Index(uint64_t v) {
    if (v < 2 * kSub) return static_cast<size_t>(v);
    const int msb = 63 - __builtin_clzll(v);
    const int shift = msb - kSubBits;
    const size_t index = static_cast<size_t>(shift) * kSub + static_cast<size_t>(v >> shift);
    return index < kBuckets ? index : kBuckets - 1;
  }

  static uint64_t Midpoint(size_t index) {
    if (index < 2 * kSub) return index;
    const int shift = static_cast<int>(index / kSub) - 1;
    const uint64_t mantissa = index - static_cast<uint64_t>(shift) * kSub;
    const uint64_t low = mantissa << shift;
    return low + ((uint64_t{1} << shift) >> 1);
  }

  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_{0};
  std::atomic<uint64_t> max_{0};
};

}  // namespace linechannel::bench

#endif  // LINECHANNEL_TOOLS_BENCH_HISTOGRAM_H_
