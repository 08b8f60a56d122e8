// libFuzzer target: any byte string is either a valid APR v2 file or a FormatError. The
// footer CRC check is off so the fuzzer can reach the structural checks behind it.

#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/format/apr.h"
#include "engine/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    try {
        parity::apr::ReadOptions options;
        options.verify_footer_crc = false;
        const auto f = parity::apr::File::parse(bytes, "fuzz.apr", options);
        (void)f.architecture();
        (void)f.tokenizer();
        for (const auto& t : f.tensors()) {
            if (t.n_elements() <= (1 << 16)) (void)f.dequantize(t);
        }
    } catch (const parity::FormatError&) {
    } catch (const parity::UsageError&) {  // a type the engine cannot decode
    }
    return 0;
}
