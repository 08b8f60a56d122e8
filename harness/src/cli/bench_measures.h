#pragma once
// What `pv bench` measures besides throughput: the machine's memory bandwidth (a STREAM-style
// triad) and the bytes one decode step must read, whose ratio bounds decode speed.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/model/model.h"
#include "engine/runtime/forward.h"

namespace parity::cli {

/// Best-of-5 bandwidth of a[i] = b[i] + s * c[i] over three arrays of 128 MiB each, in GB/s
/// (10^9 bytes per second, counting 24 bytes per element as STREAM does). Runs on `threads`
/// workers (0: all). Allocates the 384 MiB for the measurement only.
double stream_triad_gbps(int threads);

/// Bytes one decode step reads from memory: every weight matrix the graph multiplies (for a
/// routed-expert FFN, n_expert_used of n_expert experts' share), one row of token_embd, and
/// the KV cache of `context` earlier positions at `kv` precision.
std::uint64_t decode_bytes_per_token(const Model& model, int context, KvType kv);

/// "64" or "64,512" -> {64} / {64, 512}; UsageError naming `option` for anything else or a
/// value below `min`.
std::vector<int> parse_int_list(const std::string& text, const std::string& option, int min);

}  // namespace parity::cli
