#pragma once
// Trace statistics of the CUDA backend, reduced on the device (stats.cu). Private to
// engine/src/runtime/cuda (host code, C++20).
//
// Every traced slot of a pass gets two device records (all rows of the call, and its last row)
// and, when the recorder keeps values, a device-to-device copy of the last row. Nothing crosses
// to the host until finish(): then one copy of the records (56 bytes each) and one of the kept
// values, and the recorder is fed in the order of the calls (so qkv's q, k and v rows
// concatenate as on the CPU).

#include <cstdint>
#include <vector>

#include "cuda_check.h"
#include "engine/trace/trace.h"
#include "kernels.h"

namespace parity::cuda {

class DeviceTrace {
public:
    /// Room for one pass: `calls` add*() calls and `values` floats of kept last rows.
    DeviceTrace(int calls, std::int64_t values);

    /// Starts a pass; keep_values: copy each layer slot's last row too.
    void begin(bool keep_values) noexcept;
    /// Statistics of x [n_rows, width] (device) for `slot` of `layer`.
    void add(int layer, TraceSlot slot, const float* x, std::int64_t n_rows, std::int64_t width, cudaStream_t stream);
    void add_embed(const float* x, std::int64_t n_rows, std::int64_t width, cudaStream_t stream);
    void add_final_norm(const float* x, std::int64_t n_rows, std::int64_t width, cudaStream_t stream);
    /// Waits for `stream`, downloads the records (and values) and feeds `recorder`.
    void finish(TraceRecorder& recorder, cudaStream_t stream);

private:
    enum class Kind { Layer, Embed, FinalNorm };
    struct Entry {
        Kind kind;
        int layer;
        TraceSlot slot;
        std::int64_t values_offset;  ///< -1 when no values were copied
        std::int64_t width;
    };
    void push(Kind kind, int layer, TraceSlot slot, const float* x, std::int64_t n_rows, std::int64_t width,
              cudaStream_t stream);

    int calls_;
    std::int64_t values_cap_;
    bool keep_ = false;
    std::int64_t values_used_ = 0;
    std::vector<Entry> entries_;
    DeviceBuffer<kernels::StatsRecord> records_;
    DeviceBuffer<kernels::StatsRecord> partials_;
    DeviceBuffer<float> values_;
    std::vector<kernels::StatsRecord> host_records_;
    std::vector<float> host_values_;
};

/// The accumulator of a device record.
StatsAccumulator to_accumulator(const kernels::StatsRecord& r) noexcept;

}  // namespace parity::cuda
