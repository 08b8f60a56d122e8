// Trace statistics reduced on the device and handed to a TraceRecorder.

#include "cuda_trace.h"

#include <stdexcept>
#include <string>

namespace parity::cuda {

StatsAccumulator to_accumulator(const kernels::StatsRecord& r) noexcept {
    return StatsAccumulator::from_sums(r.count, r.nan, r.inf, r.zero, r.min, r.max, r.sum, r.sum_sq);
}

DeviceTrace::DeviceTrace(int calls, std::int64_t values)
    : calls_(calls),
      values_cap_(values),
      records_(2 * static_cast<std::size_t>(calls)),
      partials_(kernels::kStatsPartials),
      values_(static_cast<std::size_t>(values)) {
    entries_.reserve(static_cast<std::size_t>(calls));
}

void DeviceTrace::begin(bool keep_values) noexcept {
    keep_ = keep_values;
    values_used_ = 0;
    entries_.clear();
}

void DeviceTrace::push(Kind kind, int layer, TraceSlot slot, const float* x, std::int64_t n_rows, std::int64_t width,
                       cudaStream_t stream) {
    if (n_rows <= 0 || width <= 0) return;
    if (static_cast<int>(entries_.size()) >= calls_) {
        throw std::logic_error("DeviceTrace: more than " + std::to_string(calls_) + " traced calls in one pass");
    }
    const std::size_t i = entries_.size();
    const float* last = x + (n_rows - 1) * width;
    kernels::StatsRecord* rec = records_.get() + 2 * i;
    kernels::stats(x, n_rows * width, rec, partials_.get(), stream);
    kernels::stats(last, width, rec + 1, partials_.get(), stream);
    std::int64_t offset = -1;
    if (keep_ && kind == Kind::Layer) {
        if (values_used_ + width > values_cap_) throw std::logic_error("DeviceTrace: kept values exceed the reserve");
        offset = values_used_;
        PARITY_CUDA_CHECK(cudaMemcpyAsync(values_.get() + offset, last, static_cast<std::size_t>(width) * sizeof(float),
                                          cudaMemcpyDeviceToDevice, stream));
        values_used_ += width;
    }
    entries_.push_back({kind, layer, slot, offset, width});
}

void DeviceTrace::add(int layer, TraceSlot slot, const float* x, std::int64_t n_rows, std::int64_t width,
                      cudaStream_t stream) {
    push(Kind::Layer, layer, slot, x, n_rows, width, stream);
}

void DeviceTrace::add_embed(const float* x, std::int64_t n_rows, std::int64_t width, cudaStream_t stream) {
    push(Kind::Embed, 0, TraceSlot::AttnNorm, x, n_rows, width, stream);
}

void DeviceTrace::add_final_norm(const float* x, std::int64_t n_rows, std::int64_t width, cudaStream_t stream) {
    push(Kind::FinalNorm, 0, TraceSlot::AttnNorm, x, n_rows, width, stream);
}

void DeviceTrace::finish(TraceRecorder& recorder, cudaStream_t stream) {
    host_records_.resize(2 * entries_.size());
    host_values_.resize(static_cast<std::size_t>(values_used_));
    if (!entries_.empty()) {
        PARITY_CUDA_CHECK(cudaMemcpyAsync(host_records_.data(), records_.get(),
                                          host_records_.size() * sizeof(kernels::StatsRecord), cudaMemcpyDeviceToHost,
                                          stream));
    }
    if (values_used_ > 0) {
        PARITY_CUDA_CHECK(cudaMemcpyAsync(host_values_.data(), values_.get(), host_values_.size() * sizeof(float),
                                          cudaMemcpyDeviceToHost, stream));
    }
    PARITY_CUDA_CHECK(cudaStreamSynchronize(stream));
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        const Entry& e = entries_[i];
        const StatsAccumulator rows = to_accumulator(host_records_[2 * i]);
        const StatsAccumulator last = to_accumulator(host_records_[2 * i + 1]);
        switch (e.kind) {
            case Kind::Embed: recorder.add_embed_stats(rows, last); break;
            case Kind::FinalNorm: recorder.add_final_norm_stats(rows, last); break;
            case Kind::Layer: {
                std::span<const float> values;
                if (e.values_offset >= 0) {
                    values = std::span<const float>(host_values_).subspan(static_cast<std::size_t>(e.values_offset),
                                                                          static_cast<std::size_t>(e.width));
                }
                recorder.add_stats(e.layer, e.slot, rows, last, values);
                break;
            }
        }
    }
    entries_.clear();
    values_used_ = 0;
}

}  // namespace parity::cuda
