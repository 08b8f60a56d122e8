#include "engine/trace/aprt_tree.h"

#include <algorithm>
#include <charconv>
#include <system_error>
#include <tuple>

#include "engine/error.h"

namespace fs = std::filesystem;

namespace parity::aprt {

namespace {

/// "PREFIX<digits>" -> the number (below 0xFFFFFFFF), else nullopt.
std::optional<std::uint32_t> numbered(std::string_view name, std::string_view prefix) {
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return std::nullopt;
    const std::string_view digits = name.substr(prefix.size());
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || end != digits.data() + digits.size() || v == kWholeModelLayer) return std::nullopt;
    return v;
}

std::string pos_name(std::uint32_t pos) {
    std::string digits = std::to_string(pos);
    if (digits.size() < 4) digits.insert(0, 4 - digits.size(), '0');
    return "pos-" + digits;
}

std::vector<fs::directory_entry> sorted_entries(const fs::path& dir) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) throw IoError(dir.string(), "cannot list the directory: " + ec.message());
    std::vector<fs::directory_entry> out;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) throw IoError(dir.string(), "cannot list the directory: " + ec.message());
        out.push_back(*it);
    }
    std::sort(out.begin(), out.end(),
              [](const fs::directory_entry& a, const fs::directory_entry& b) { return a.path() < b.path(); });
    return out;
}

bool is_bin_file(const fs::directory_entry& e) { return !e.is_directory() && e.path().extension() == ".bin"; }

/// Adds the .bin files of a layer-N directory; `layer` is N.
void scan_layer_dir(const fs::path& dir, std::optional<std::uint32_t> position, std::uint32_t layer,
                    Layout layout, std::vector<DumpFile>& out) {
    for (const auto& e : sorted_entries(dir)) {
        if (e.is_directory()) throw UsageError(e.path().string() + ": unexpected directory inside a layer directory");
        if (!is_bin_file(e)) continue;
        std::string stage = e.path().stem().string();
        DumpFile f{position, layer, stage, e.path()};
        if (is_whole_model_stage(stage)) {
            // Upstream's trace writer puts the embedding in layer-0/ of the concatenated layout.
            if (layout != Layout::Concatenated || layer != 0) {
                throw UsageError(e.path().string() + ": whole-model stage '" + stage + "' inside a layer directory" +
                                 (layout == Layout::Concatenated ? " other than layer-0" : ""));
            }
            f.layer = kWholeModelLayer;
        }
        out.push_back(std::move(f));
    }
}

/// Adds the contents of a directory that holds layer-N/ directories and whole-model stage files
/// (the root of a concatenated tree, or one pos-NNNN/ directory).
void scan_stage_root(const fs::path& dir, std::optional<std::uint32_t> position, Layout layout,
                     std::vector<DumpFile>& out) {
    for (const auto& e : sorted_entries(dir)) {
        const std::string name = e.path().filename().string();
        if (e.is_directory()) {
            const auto layer = numbered(name, "layer-");
            if (!layer) throw UsageError(e.path().string() + ": unexpected directory (expected layer-N)");
            scan_layer_dir(e.path(), position, *layer, layout, out);
            continue;
        }
        if (!is_bin_file(e)) continue;
        const std::string stage = e.path().stem().string();
        if (!is_whole_model_stage(stage)) {
            throw UsageError(e.path().string() + ": '" + stage +
                             "' is not a whole-model stage (embedding, final_norm, lm_head); per-layer stages "
                             "belong in layer-N/");
        }
        out.push_back(DumpFile{position, kWholeModelLayer, stage, e.path()});
    }
}

/// Sort rank of a file within one position: (group, layer, stage rank, name).
std::tuple<int, std::uint32_t, int, std::string_view> rank(const DumpFile& f) {
    if (f.stage == "embedding") return {0, 0, 0, f.stage};
    if (f.layer == kWholeModelLayer) return {2, 0, stage_rank(f.stage), f.stage};
    const int rank = stage_rank(f.stage);
    return {1, f.layer, rank < 0 ? 2 * static_cast<int>(kKnownStageNames.size()) : rank, f.stage};
}

}  // namespace

std::string_view layout_name(Layout layout) noexcept {
    return layout == Layout::PerPosition ? "per-position" : "concatenated";
}

std::string DumpFile::key() const {
    std::string k;
    if (position) k = pos_name(*position) + "/";
    if (layer != kWholeModelLayer) k += "layer-" + std::to_string(layer) + "/";
    return k + stage + ".bin";
}

bool forward_order_less(const DumpFile& a, const DumpFile& b) {
    const std::uint32_t pa = a.position.value_or(0), pb = b.position.value_or(0);
    if (pa != pb) return pa < pb;
    return rank(a) < rank(b);
}

Layout detect_layout(const fs::path& dir) {
    if (!fs::is_directory(dir)) throw UsageError(dir.string() + ": not a directory");
    bool positions = false, concatenated = false;
    for (const auto& e : sorted_entries(dir)) {
        const std::string name = e.path().filename().string();
        if (e.is_directory() && numbered(name, "pos-")) positions = true;
        if ((e.is_directory() && numbered(name, "layer-")) || is_bin_file(e)) concatenated = true;
    }
    if (positions && concatenated) {
        throw UsageError(dir.string() + ": mixes pos-NNNN/ directories with layer-N/ directories or .bin files");
    }
    if (positions) return Layout::PerPosition;
    if (concatenated) return Layout::Concatenated;
    throw UsageError(dir.string() + ": not an APRT dump tree (no pos-NNNN/ or layer-N/ directory, no .bin file)");
}

DumpTree scan_tree(const fs::path& dir) {
    DumpTree tree;
    tree.layout = detect_layout(dir);
    if (tree.layout == Layout::Concatenated) {
        scan_stage_root(dir, std::nullopt, tree.layout, tree.files);
    } else {
        for (const auto& e : sorted_entries(dir)) {
            if (!e.is_directory()) continue;  // stray files at the root of a per-position tree
            const auto pos = numbered(e.path().filename().string(), "pos-");
            if (!pos) throw UsageError(e.path().string() + ": unexpected directory (expected pos-NNNN)");
            scan_stage_root(e.path(), pos, tree.layout, tree.files);
        }
    }
    if (tree.files.empty()) throw UsageError(dir.string() + ": the dump tree holds no .bin stage file");
    std::stable_sort(tree.files.begin(), tree.files.end(), forward_order_less);
    for (std::size_t i = 1; i < tree.files.size(); ++i) {
        if (tree.files[i].key() == tree.files[i - 1].key()) {
            throw UsageError(tree.files[i].path.string() + ": the same stage as " + tree.files[i - 1].path.string());
        }
    }
    return tree;
}

Tensor read_dump_file(const DumpFile& file) {
    Tensor t = read_file(file.path);
    const bool in_layer_dir = numbered(file.path.parent_path().filename().string(), "layer-").has_value();
    const bool ok = t.layer == file.layer || (file.layer == kWholeModelLayer && in_layer_dir && t.layer == 0);
    if (!ok) {
        const auto text = [](std::uint32_t l) {
            return l == kWholeModelLayer ? std::string("0xFFFFFFFF (whole model)") : std::to_string(l);
        };
        throw FormatError(file.path.string(), 4,
                          "header layer " + text(t.layer) + ", but the file's place says layer " + text(file.layer));
    }
    return t;
}

}  // namespace parity::aprt
