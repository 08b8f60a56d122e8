// libFuzzer target: any byte string is either a valid GGUF (whose tensors then lie inside
// the input and dequantize without fault) or a FormatError — never a crash or a leak.

#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/error.h"
#include "engine/format/gguf.h"
#include "engine/quant/quant.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    try {
        const auto f = parity::gguf::File::parse(bytes, "fuzz.gguf");
        for (const auto& t : f.tensors()) {
            (void)t.n_rows();
            // Empty tensors too: one that claims 2^62 rows of nothing must still return at once.
            if (t.n_elements() <= (1 << 16) && parity::can_dequantize(t.type)) (void)f.dequantize(t);
        }
    } catch (const parity::FormatError&) {
    }
    return 0;
}
