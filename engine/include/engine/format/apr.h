#pragma once
// APR v2 (the Rust `aprender` / `realizar` model format), little-endian.
//
// Verified against aprender's Rust source, not its prose spec (crates/aprender-core/src/
// format/v2/mod.rs: constants, AprV2Flags, AprV2Header, crc32, dequantize_q4; header_impl.rs:
// AprV2Header::to_bytes/from_bytes/compute_checksum; tensor_index_impl.rs: TensorIndexEntry::
// to_bytes/from_bytes, TensorDType ids incl. GH-438; writer.rs: AprV2Writer::write,
// add_q4_tensor, add_q8_tensor; streaming_writer.rs: AprV2StreamingWriter::finalize;
// reader_impl.rs: AprV2Reader(Ref)::from_bytes, get_tensor_as_f32) and realizar's
// src/apr/mod.rs (AprHeader::from_bytes, AprFlags, TensorEntry::from_binary, AprMetadata).
//
// On-disk layout (all integers little-endian):
//
//   1. header, 64 bytes
//        0  u8[4] magic            "APR\0" (41 50 52 00)
//        4  u8    version_major    2
//        5  u8    version_minor    0 (any 2.x is read)
//        6  u16   flags            see `flags` below; aprender sets LAYOUT_ROW_MAJOR on
//                                  every file it writes
//        8  u32   tensor_count
//       12  u64   metadata_offset  64 in every writer
//       20  u32   metadata_size    JSON bytes, without the padding (a u32, not a u64)
//       24  u64   tensor_index_offset  metadata_offset + metadata_size padded to 64
//       32  u64   data_offset      tensor_index_offset + index size padded to 64
//       40  u32   header_crc       CRC-32 (zlib/IEEE, reflected 0xEDB88320, init and final
//                                  xor 0xFFFFFFFF) of bytes 0..39 followed by 44..63
//       44  u8[20] reserved        zero
//   2. metadata: one UTF-8 JSON object (compact, as serde_json writes it), zero-padded to a
//      multiple of 64 bytes
//   3. tensor index: tensor_count entries, sorted by name (byte-wise, as Rust's String::cmp),
//      zero-padded to a multiple of 64 bytes. One entry:
//        u16  name_len, then name_len bytes of name (aprender's writer caps names at 256)
//        u8   dtype                see DType
//        u8   ndim                 aprender writes at most 8
//        u64  dims[ndim]           row-major, outermost first: a ggml tensor with
//                                  ne = [ne0, ne1] is stored as dims [ne1, ne0]
//        u64  offset               from data_offset; a multiple of 64
//        u64  size                 bytes
//   4. tensor data: each tensor at data_offset + offset, 64-byte aligned, zero-padded.
//      Bytes are ggml's for the ggml-numbered types (no transposition); aprender's own
//      streaming writer keeps data in insertion order, so offsets need not follow the index.
//   5. footer: u32 CRC-32 of every preceding byte of the file.
//
// The reader memory-maps the file and checks, before use: the magic, the version, the
// header CRC, every offset/size/count against the file size (overflow-safe), the sections'
// order, the index's sort order and name uniqueness, each dtype, the dims against the byte
// size, each tensor's alignment, bounds and non-overlap, the metadata JSON (an object, no
// duplicate keys), and last the footer CRC. Each problem throws FormatError naming the file,
// the byte offset of the offending field and what was expected. Realizar checks neither CRC
// and loses all metadata when one field has an unexpected type; here the whole JSON is kept
// and a typed accessor throws only for the key it reads.
//
// Where the sources disagree (the Rust code above wins): aprender's module doc says the index
// has "64-byte aligned entries" but to_bytes packs entries back to back and pads only the
// whole index; realizar's doc gives the magic as 0x41505232 ("APR2") while every writer puts
// "APR\0"; realizar's older TensorEntry::from_binary read dtype bytes 2/8/9/10 as
// BF16/Q4_K/Q6_K/Q8_0 and any unknown byte as F32, which GH-438 replaced by the ids above;
// aprender's reader accepts equal adjacent names (we reject duplicates) and does not check the
// version, the footer CRC or any offset against the file size.

#include <array>
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/quant/ggml_type.h"
#include "engine/mapped_file.h"

namespace parity::apr {

/// The metadata JSON, keys in file order (so a file can be re-written byte for byte).
using Json = nlohmann::ordered_json;

inline constexpr std::array<std::uint8_t, 4> kMagic = {0x41, 0x50, 0x52, 0x00};  // "APR\0"
inline constexpr std::uint8_t kVersionMajor = 2;
inline constexpr std::uint8_t kVersionMinor = 0;
inline constexpr std::uint64_t kHeaderSize = 64;
inline constexpr std::uint64_t kAlignment = 64;
inline constexpr std::uint64_t kFooterSize = 4;
inline constexpr int kMaxDims = 8;                   ///< aprender writes at most 8 dims
inline constexpr std::size_t kMaxNameLength = 256;   ///< aprender's MAX_TENSOR_NAME_LEN

/// Header flag bits (aprender's AprV2Flags).
namespace flags {
inline constexpr std::uint16_t LZ4_COMPRESSED = 0x0001;
inline constexpr std::uint16_t ZSTD_COMPRESSED = 0x0002;
inline constexpr std::uint16_t ENCRYPTED = 0x0004;
inline constexpr std::uint16_t SIGNED = 0x0008;
inline constexpr std::uint16_t SHARDED = 0x0010;
inline constexpr std::uint16_t QUANTIZED = 0x0020;
inline constexpr std::uint16_t HAS_FILTERBANK = 0x0040;
inline constexpr std::uint16_t HAS_MODEL_CARD = 0x0080;
inline constexpr std::uint16_t STREAMING = 0x0100;
inline constexpr std::uint16_t HAS_VOCAB = 0x0200;
inline constexpr std::uint16_t LAYOUT_ROW_MAJOR = 0x0400;
inline constexpr std::uint16_t LAYOUT_COLUMN_MAJOR = 0x0800;  ///< rejected, as aprender does
}  // namespace flags

/// Tensor dtype byte (aprender's TensorDType). Ids below 128 are ggml's where ggml has the
/// type; APR's own quantizations use 128/129 (GH-438). The reader also accepts their legacy
/// ids 8 and 9, as aprender does; the writer never writes 8 or 9, so a ggml Q8_0 tensor must
/// be converted (to F32 or AprQ8) before it is stored.
enum class DType : std::uint8_t {
    F32 = 0,
    F16 = 1,
    F64 = 3,    ///< APR extension (not ggml's 28)
    I32 = 4,    ///< APR extension
    I64 = 5,    ///< APR extension
    I8 = 6,     ///< APR extension
    U8 = 7,     ///< APR extension
    Q4_K = 12,  ///< ggml Q4_K super-blocks (144 bytes per 256 values)
    Q6_K = 14,  ///< ggml Q6_K super-blocks (210 bytes per 256 values)
    BF16 = 30,
    AprQ4 = 128,  ///< blocks of 32 values over the flattened tensor: f16 scale + 16 bytes of
                  ///< nibbles (value 2k low, 2k+1 high), q = nibble - 8; a short last block
                  ///< still takes 18 bytes
    AprQ8 = 129,  ///< one f32 scale for the whole tensor, then one i8 per value (0 bytes when
                  ///< the tensor is empty)
};

/// The dtype stored as `byte`, or nullopt for an unknown byte (8 and 9 map to AprQ4/AprQ8).
std::optional<DType> dtype_from_byte(std::uint8_t byte) noexcept;
/// "F32", "Q4_K", "AprQ4", ...
std::string_view dtype_name(DType t) noexcept;
/// The ggml type with the same bytes (F32, F16, BF16, Q4_K, Q6_K, F64, I32, I64, I8), or
/// nullopt (U8, AprQ4, AprQ8).
std::optional<GgmlType> to_ggml(DType t) noexcept;
/// The APR dtype storing a ggml type's bytes unchanged (F32, F16, BF16, Q4_K, Q6_K, F64, I8,
/// I32, I64), or nullopt (Q8_0 and the other ggml quantizations have no APR id).
std::optional<DType> from_ggml(GgmlType t) noexcept;
/// True for Q4_K, Q6_K, AprQ4 and AprQ8 (the writer's QUANTIZED flag).
bool is_quantized(DType t) noexcept;
/// Values per block along the row (ne0) that the dtype requires: 256 for Q4_K/Q6_K, else 1.
std::int64_t row_block_size(DType t) noexcept;
/// Bytes of a tensor of `n_elements` values whose rows are `ne0` long, or nullopt when ne0
/// is not a multiple of row_block_size or the size overflows 64 bits.
std::optional<std::uint64_t> byte_size(DType t, std::int64_t ne0, std::int64_t n_elements) noexcept;

/// One tensor of the index.
struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    std::uint8_t dtype_byte = 0;      ///< as stored (8/9 for legacy AprQ4/AprQ8 files)
    std::vector<std::uint64_t> dims;  ///< as stored: row-major, outermost first
    std::vector<std::int64_t> ne;     ///< ggml order, ne[0] fastest: dims reversed
    std::uint64_t offset = 0;         ///< from data_offset
    std::uint64_t size = 0;           ///< bytes
    std::uint64_t index_offset = 0;   ///< file offset of this tensor's index entry

    std::int64_t n_elements() const noexcept;
    /// Row length ne[0] (1 for a 0-dim scalar).
    std::int64_t row_length() const noexcept;
    std::optional<GgmlType> ggml_type() const noexcept { return to_ggml(dtype); }
};

/// Architecture keys of the metadata (aprender's AprV2Metadata / realizar's AprMetadata).
/// Absent or JSON null gives nullopt.
struct Architecture {
    std::optional<std::string> model_type;
    std::optional<std::string> architecture;
    std::optional<std::int64_t> hidden_size;
    std::optional<std::int64_t> num_layers;
    std::optional<std::int64_t> num_heads;
    std::optional<std::int64_t> num_kv_heads;
    std::optional<std::int64_t> vocab_size;
    std::optional<std::int64_t> intermediate_size;
    std::optional<std::int64_t> max_position_embeddings;
    std::optional<std::int64_t> head_dim;
    std::optional<double> rope_theta;
    std::optional<std::int64_t> rope_type;  ///< 0 = NORM (adjacent pairs), 2 = NEOX (halves)
    std::optional<double> rms_norm_eps;
    std::optional<bool> tied_embeddings;
    // Mixture of experts (aprender's AprV2Metadata names).
    std::optional<std::int64_t> num_experts;
    std::optional<std::int64_t> num_experts_per_tok;
    std::optional<std::int64_t> moe_intermediate_size;
    // Interleaved sliding-window attention (Hugging Face config.json names, as Gemma 3's).
    std::optional<std::int64_t> sliding_window;
    std::optional<std::int64_t> sliding_window_pattern;
    std::optional<double> rope_local_base_freq;
    /// `rope_scaling` object: its `rope_type` (or the older `type`) and `factor`.
    std::optional<std::string> rope_scaling_type;
    std::optional<double> rope_scaling_factor;
};

/// The tokenizer, from the nested `tokenizer` object and upstream's flat keys
/// (`tokenizer.vocabulary`, `tokenizer.merges`, `tokenizer.bos_token_id`,
/// `tokenizer.eos_token_id`, `tokenizer.model`). Where both are present they must agree.
struct Tokenizer {
    bool present = false;  ///< either form found
    std::optional<std::string> model;  ///< "gpt2", "llama", ...
    std::optional<std::string> pre;    ///< pre-tokenizer: "qwen2", "llama-bpe", ...
    std::vector<std::string> tokens;
    std::vector<std::string> merges;   ///< "a b"; [a, b] pairs are joined with one space
    std::vector<std::int32_t> token_type;
    std::optional<std::int64_t> bos_token_id;
    std::optional<std::int64_t> eos_token_id;
};

/// Reader options.
struct ReadOptions {
    /// Verify the footer CRC, i.e. read every byte of the file once. Boost.CRC's table-driven
    /// CRC runs at about 0.4 GB/s (so ~30 s for a 13.5 GB model); turn it off to trust the
    /// file's data bytes without reading them (every structural check still runs).
    bool verify_footer_crc = true;
};

/// A validated, memory-mapped APR v2 file. Tensor data are views into the mapping and live as
/// long as this object.
class File {
public:
    /// Opens and validates `path`. Throws IoError or FormatError.
    static File open(const std::string& path, ReadOptions options = {});

    /// Parses an in-memory image (tests, fuzzers); `name` appears in errors. The bytes must
    /// outlive the returned object.
    static File parse(std::span<const std::byte> bytes, const std::string& name, ReadOptions options = {});

    const std::string& path() const noexcept { return path_; }
    std::uint8_t version_major() const noexcept { return version_major_; }
    std::uint8_t version_minor() const noexcept { return version_minor_; }
    std::uint16_t flags() const noexcept { return flags_; }
    bool has_flag(std::uint16_t flag) const noexcept { return (flags_ & flag) == flag; }
    std::uint64_t metadata_offset() const noexcept { return metadata_offset_; }
    std::uint32_t metadata_size() const noexcept { return metadata_size_; }
    std::uint64_t tensor_index_offset() const noexcept { return tensor_index_offset_; }
    std::uint64_t data_offset() const noexcept { return data_offset_; }
    std::uint32_t header_crc() const noexcept { return header_crc_; }
    std::uint32_t footer_crc() const noexcept { return footer_crc_; }
    std::uint64_t file_size() const noexcept { return bytes_.size(); }

    /// The whole metadata object, keys in file order.
    const Json& metadata() const noexcept { return metadata_; }
    /// The raw JSON text (metadata_size bytes, without padding).
    std::string_view metadata_text() const noexcept;

    /// The value of a top-level key, or nullptr.
    const Json* find(std::string_view key) const noexcept;
    /// Typed access; a missing key, or a value of another type, throws FormatError naming the
    /// key (at the metadata's offset).
    std::string get_string(std::string_view key) const;
    std::int64_t get_int(std::string_view key) const;
    double get_number(std::string_view key) const;
    bool get_bool(std::string_view key) const;

    /// Architecture keys. A key of an unexpected type throws FormatError naming it.
    Architecture architecture() const;
    /// The tokenizer (present == false when the file has none). A malformed field throws
    /// FormatError naming it.
    Tokenizer tokenizer() const;

    /// Tensors in index order (sorted by name).
    const std::vector<TensorInfo>& tensors() const noexcept { return tensors_; }
    /// The tensor named `name`, or nullptr.
    const TensorInfo* find_tensor(std::string_view name) const noexcept;
    /// The tensor named `name`; throws UsageError naming the file when absent.
    const TensorInfo& tensor(std::string_view name) const;

    /// The raw bytes of a tensor (size bytes).
    std::span<const std::byte> tensor_data(const TensorInfo& t) const noexcept;

    /// A tensor as f32, ne[0] fastest: F32/F16/BF16/Q4_K/Q6_K/F64/I8/I32/I64 bit-identical to
    /// ggml's dequantize_row_*; AprQ4/AprQ8 as aprender's get_tensor_as_f32; U8 by value.
    /// Throws UsageError for a type the engine cannot decode.
    std::vector<float> dequantize(const TensorInfo& t) const;

private:
    File() = default;

    std::optional<MappedFile> mapping_;
    std::span<const std::byte> bytes_;
    std::string path_;
    std::uint8_t version_major_ = 0;
    std::uint8_t version_minor_ = 0;
    std::uint16_t flags_ = 0;
    std::uint64_t metadata_offset_ = 0;
    std::uint32_t metadata_size_ = 0;
    std::uint64_t tensor_index_offset_ = 0;
    std::uint64_t data_offset_ = 0;
    std::uint32_t header_crc_ = 0;
    std::uint32_t footer_crc_ = 0;
    Json metadata_;
    std::vector<TensorInfo> tensors_;
};

/// Decodes an AprQ4 / AprQ8 payload of `n` values (aprender's dequantize_q4 and Q8 branch of
/// get_tensor_as_f32: an AprQ4 scale that is NaN, infinite or below 6.1e-5 in magnitude
/// decodes as 0). Throws UsageError when `src` has the wrong size.
void dequantize_apr_q4(std::span<const std::byte> src, std::span<float> dst);
void dequantize_apr_q8(std::span<const std::byte> src, std::span<float> dst);

/// Writes APR v2 files as aprender's AprV2Writer does (same bytes for the same metadata text
/// and tensors): index sorted by name, data in index order, each section and tensor padded
/// to 64 bytes, header CRC and a footer CRC computed while streaming. Flags: LAYOUT_ROW_MAJOR
/// always, HAS_VOCAB when the metadata has a tokenizer (a `tokenizer` object or a
/// `tokenizer.vocabulary` key), QUANTIZED when any tensor is Q4_K, Q6_K, AprQ4 or AprQ8.
///
/// Streaming use (one tensor in memory at a time):
///     apr::Writer w(path);
///     w.set_metadata(json);
///     w.add_tensor("token_embd.weight", apr::DType::F32, {896, 151936});   // ne order
///     w.write_header();
///     while (const TensorInfo* t = w.next_tensor()) w.write_tensor_data(t->name, bytes_of(*t));
///     w.finish();
class Writer {
public:
    /// Creates (truncates) `path`. Throws IoError.
    explicit Writer(std::string path);
    /// Writes to a stream the caller owns; `name` appears in errors.
    Writer(std::ostream& out, std::string name);
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    /// Sets the metadata (a JSON object; anything else throws UsageError). Only before
    /// write_header(). Serialized compact, UTF-8, keys in their order in `metadata`.
    void set_metadata(Json metadata);

    /// Declares a tensor; `ne` in ggml order (ne[0] fastest), stored reversed. Throws
    /// UsageError on an empty, over-long (> 256 bytes) or duplicate name, more than 8 dims, a
    /// negative dim, non-zero dims whose product exceeds 2^63-1, or ne[0] not a multiple of the
    /// dtype's block size. Only before
    /// write_header().
    void add_tensor(std::string name, DType dtype, std::vector<std::int64_t> ne);

    /// Writes the header, the metadata and the index (sorted by name).
    void write_header();

    /// Tensors in the order their data must be written (by name), with offsets and sizes.
    /// Complete after write_header().
    const std::vector<TensorInfo>& tensors() const noexcept { return tensors_; }
    /// The tensor whose data come next, or nullptr when all were written.
    const TensorInfo* next_tensor() const noexcept;

    /// Writes the next tensor's bytes (exactly its size) and padding.
    void write_tensor_data(std::span<const std::byte> data);
    /// The same, checking that `name` is the tensor expected next.
    void write_tensor_data(std::string_view name, std::span<const std::byte> data);

    /// Checks every tensor was written, writes the footer CRC and closes. Throws IoError.
    void finish();

    std::uint16_t flags() const noexcept { return flags_; }
    std::uint64_t bytes_written() const noexcept { return written_; }

private:
    struct Crc;
    void write_bytes(const void* p, std::size_t n);
    void pad_to_alignment();

    std::string path_;
    std::unique_ptr<std::ofstream> file_;
    std::ostream* out_ = nullptr;
    std::unique_ptr<Crc> crc_;
    std::uint64_t written_ = 0;
    Json metadata_ = Json::object();
    std::vector<TensorInfo> tensors_;
    std::size_t next_ = 0;
    std::uint16_t flags_ = 0;
    bool header_written_ = false;
    bool finished_ = false;
};

/// A tensor and its bytes, for writing a whole (small) file in one call.
struct TensorData {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> ne;  ///< ggml order
    std::vector<std::byte> bytes;
};

/// Writes a complete file from in-memory parts (any tensor order: they are sorted by name).
void write_file(const std::string& path, const Json& metadata, const std::vector<TensorData>& tensors);

}  // namespace parity::apr
