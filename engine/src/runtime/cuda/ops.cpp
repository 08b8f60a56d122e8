// Host entry points to the CUDA kernels, for the kernel tests (ops.h).

#include "ops.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/model/rope.h"
#include "engine/runtime/gelu.h"
#include "cuda_check.h"
#include "cuda_trace.h"
#include "cuda_weights.h"
#include "engine/error.h"
#include "kernels.h"

namespace parity::cuda::ops {

namespace {

void require(bool ok, const std::string& what) {
    if (!ok) throw UsageError("cuda::ops::" + what);
}

template <typename T>
DeviceBuffer<T> upload(std::span<const T> host, cudaStream_t s) {
    DeviceBuffer<T> d(host.size());
    if (!host.empty()) {
        PARITY_CUDA_CHECK(cudaMemcpyAsync(d.get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice, s));
    }
    return d;
}

template <typename T>
void download(std::span<T> host, const DeviceBuffer<T>& d, cudaStream_t s) {
    if (!host.empty()) {
        PARITY_CUDA_CHECK(cudaMemcpyAsync(host.data(), d.get(), host.size() * sizeof(T), cudaMemcpyDeviceToHost, s));
    }
    PARITY_CUDA_CHECK(cudaStreamSynchronize(s));
}

}  // namespace

void dequantize_rows(GgmlType type, std::span<const std::byte> w, std::int64_t n_in, std::span<const std::int32_t> rows,
                     std::span<float> out) {
    require(n_in > 0 && w.size() % row_size(type, n_in) == 0, "dequantize_rows: bytes do not hold whole rows");
    require(out.size() == rows.size() * static_cast<std::size_t>(n_in), "dequantize_rows: output size");
    const auto n_rows_w = static_cast<std::int64_t>(w.size() / row_size(type, n_in));
    for (const std::int32_t r : rows) require(r >= 0 && r < n_rows_w, "dequantize_rows: row id out of range");
    Stream st;
    const cudaStream_t s = st.get();
    auto dw = upload(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(w.data()), w.size()), s);
    auto drows = upload(rows, s);
    DeviceBuffer<float> dout(out.size());
    kernels::dequantize_rows(static_cast<int>(type), dw.get(), n_in, drows.get(), static_cast<std::int64_t>(rows.size()),
                             dout.get(), s);
    download(out, dout, s);
}

void matmul(const WeightMatrix& w, MatmulPolicy policy, std::span<const float> x, std::int64_t n_tok,
            std::span<float> y) {
    require(n_tok > 0 && x.size() == static_cast<std::size_t>(n_tok * w.n_in), "matmul: input size");
    require(y.size() == static_cast<std::size_t>(n_tok * w.n_out), "matmul: output size");
    Stream st;
    const cudaStream_t s = st.get();
    CublasHandle blas(s);
    const DeviceMatrix m = upload_matrix(w, policy, true, s);
    Matmul mm(s, blas.get());
    mm.reserve(n_tok, w.n_in);
    auto dx = upload(x, s);
    DeviceBuffer<float> dy(y.size());
    mm.set_input(dx.get(), n_tok, w.n_in);
    mm.run(m, dy.get());
    download(y, dy, s);
}

void quantize_roundtrip(GgmlType dot_type, std::span<const float> x, std::span<float> y) {
    require(x.size() == y.size(), "quantize_roundtrip: sizes differ");
    Stream st;
    const cudaStream_t s = st.get();
    auto dx = upload(x, s);
    DeviceBuffer<float> dy(y.size());
    kernels::quantize_roundtrip(static_cast<int>(dot_type), dx.get(), static_cast<std::int64_t>(x.size()), dy.get(), s);
    download(y, dy, s);
}

void rms_norm(std::span<const float> x, std::span<const float> w, std::int64_t n_rows, float eps, std::span<float> y) {
    const auto n = static_cast<std::int64_t>(w.size());
    require(n > 0 && x.size() == static_cast<std::size_t>(n_rows * n) && y.size() == x.size(), "rms_norm: sizes");
    Stream st;
    const cudaStream_t s = st.get();
    auto dx = upload(x, s);
    auto dw = upload(w, s);
    DeviceBuffer<float> dy(y.size());
    kernels::rms_norm(dx.get(), dw.get(), n_rows, n, eps, dy.get(), s);
    download(y, dy, s);
}

void rope(std::span<float> x, std::int64_t n_tok, int n_heads, int head_dim, int pos0, float base, RopeType type) {
    require(x.size() == static_cast<std::size_t>(n_tok * n_heads * head_dim) && head_dim % 2 == 0 && pos0 >= 0,
            "rope: sizes");
    const auto positions = static_cast<std::size_t>(pos0 + n_tok);
    std::vector<float> cs(positions * static_cast<std::size_t>(head_dim));
    for (std::size_t p = 0; p < positions; ++p) {
        rope_cache(cs.data() + p * static_cast<std::size_t>(head_dim), static_cast<std::int64_t>(p), head_dim, base);
    }
    Stream st;
    const cudaStream_t s = st.get();
    auto dcs = upload(std::span<const float>(cs), s);
    auto dx = upload(std::span<const float>(x), s);
    kernels::rope(dx.get(), n_tok, n_heads, head_dim, dcs.get(), pos0, type == RopeType::Neox, s);
    download(x, dx, s);
}

void attention(std::span<const float> q, std::span<const float> k, std::span<const float> v, std::int64_t n_tok,
               int pos0, int n_head, int n_head_kv, int head_dim, KvType kv_type, float scale, int window,
               std::span<float> out) {
    const std::int64_t qd = static_cast<std::int64_t>(n_head) * head_dim;
    const std::int64_t kvd = static_cast<std::int64_t>(n_head_kv) * head_dim;
    const std::int64_t n_kv = pos0 + n_tok;
    require(n_head_kv > 0 && n_head % n_head_kv == 0, "attention: n_head_kv must divide n_head");
    require(q.size() == static_cast<std::size_t>(n_tok * qd) && out.size() == q.size(), "attention: q/out sizes");
    require(k.size() == static_cast<std::size_t>(n_kv * kvd) && v.size() == k.size(), "attention: k/v sizes");
    Stream st;
    const cudaStream_t s = st.get();
    const bool f16 = kv_type == KvType::F16;
    auto dq = upload(q, s);
    auto dk = upload(k, s);
    auto dv = upload(v, s);
    const std::size_t elem = f16 ? 2 : 4;
    DeviceBuffer<std::uint8_t> kc(static_cast<std::size_t>(n_kv * kvd) * elem);
    DeviceBuffer<std::uint8_t> vc(static_cast<std::size_t>(n_kv * kvd) * elem);
    DeviceBuffer<float> dout(out.size());
    kernels::kv_store(dk.get(), dv.get(), n_kv, static_cast<int>(kvd), 0, f16, kc.get(), vc.get(), s);
    kernels::attention(dq.get(), kc.get(), vc.get(), f16, n_tok, pos0, n_head, n_head_kv, head_dim,
                       scale, window, dout.get(), s);
    download(out, dout, s);
}

void gelu(std::span<float> x, bool table) {
    Stream st;
    const cudaStream_t s = st.get();
    auto dx = upload(std::span<const float>(x), s);
    DeviceBuffer<std::uint16_t> dt;
    if (table) dt = upload(gelu_fp16_table(), s);
    kernels::gelu(dx.get(), static_cast<std::int64_t>(x.size()), table ? dt.get() : nullptr, s);
    download(x, dx, s);
}

void gather_rows(std::span<const float> src, std::span<const std::int32_t> rows, std::int64_t width,
                 std::span<float> dst) {
    require(width > 0 && dst.size() == rows.size() * static_cast<std::size_t>(width), "gather_rows: sizes");
    Stream st;
    const cudaStream_t s = st.get();
    auto ds = upload(src, s);
    auto dr = upload(rows, s);
    DeviceBuffer<float> dd(dst.size());
    kernels::gather_rows(ds.get(), dr.get(), static_cast<std::int64_t>(rows.size()), width, dd.get(), s);
    download(dst, dd, s);
}

void scatter_rows_scaled(std::span<const float> src, std::span<const std::int32_t> rows,
                         std::span<const float> weights, std::int64_t width, std::span<float> dst) {
    require(width > 0 && src.size() == rows.size() * static_cast<std::size_t>(width) && weights.size() == rows.size(),
            "scatter_rows_scaled: sizes");
    Stream st;
    const cudaStream_t s = st.get();
    auto ds = upload(src, s);
    auto dr = upload(rows, s);
    auto dw = upload(weights, s);
    auto dd = upload(std::span<const float>(dst), s);
    kernels::scatter_rows_scaled(ds.get(), dr.get(), dw.get(), static_cast<std::int64_t>(rows.size()), width, dd.get(),
                                 s);
    download(dst, dd, s);
}

void sum_groups(std::span<const float> src, int k, std::int64_t width, std::span<float> dst) {
    require(k > 0 && width > 0 && src.size() == dst.size() * static_cast<std::size_t>(k), "sum_groups: sizes");
    Stream st;
    const cudaStream_t s = st.get();
    auto ds = upload(src, s);
    DeviceBuffer<float> dd(dst.size());
    kernels::sum_groups(ds.get(), static_cast<std::int64_t>(dst.size()) / width, k, width, dd.get(), s);
    download(dst, dd, s);
}

void swiglu(std::span<const float> gate, std::span<const float> up, std::span<float> silu_out,
            std::span<float> product) {
    require(gate.size() == up.size() && silu_out.size() == gate.size() && product.size() == gate.size(),
            "swiglu: sizes");
    Stream st;
    const cudaStream_t s = st.get();
    auto dg = upload(gate, s);
    auto du = upload(up, s);
    const auto n = static_cast<std::int64_t>(gate.size());
    kernels::silu(dg.get(), n, s);
    download(silu_out, dg, s);
    kernels::mul(du.get(), dg.get(), n, s);
    download(product, du, s);
}

void add_scale(std::span<float> y, std::span<const float> x, float scale) {
    require(x.size() == y.size(), "add_scale: sizes");
    Stream st;
    const cudaStream_t s = st.get();
    auto dy = upload(std::span<const float>(y), s);
    auto dx = upload(x, s);
    const auto n = static_cast<std::int64_t>(y.size());
    kernels::add(dy.get(), dx.get(), n, s);
    kernels::scale(dy.get(), scale, n, s);
    download(y, dy, s);
}

void add_rows(std::span<float> y, std::span<const float> b) {
    require(!b.empty() && y.size() % b.size() == 0, "add_rows: sizes");
    Stream st;
    const cudaStream_t s = st.get();
    auto dy = upload(std::span<const float>(y), s);
    auto db = upload(b, s);
    const auto width = static_cast<std::int64_t>(b.size());
    kernels::add_rows(dy.get(), db.get(), static_cast<std::int64_t>(y.size()) / width, width, s);
    download(y, dy, s);
}

StatsPair stats(std::span<const float> x, std::int64_t n_rows, std::int64_t width) {
    require(n_rows > 0 && width > 0 && x.size() == static_cast<std::size_t>(n_rows * width), "stats: sizes");
    Stream st;
    const cudaStream_t s = st.get();
    auto dx = upload(x, s);
    DeviceBuffer<kernels::StatsRecord> rec(2);
    DeviceBuffer<kernels::StatsRecord> partials(kernels::kStatsPartials);
    kernels::stats(dx.get(), n_rows * width, rec.get(), partials.get(), s);
    kernels::stats(dx.get() + (n_rows - 1) * width, width, rec.get() + 1, partials.get(), s);
    kernels::StatsRecord host[2];
    download(std::span<kernels::StatsRecord>(host, 2), rec, s);
    return {to_accumulator(host[0]).finish(), to_accumulator(host[1]).finish()};
}

}  // namespace parity::cuda::ops
