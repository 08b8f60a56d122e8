#include "engine/trace/stage_dump.h"

#include <algorithm>
#include <system_error>
#include <tuple>

#include "engine/error.h"

namespace fs = std::filesystem;

namespace parity {

std::string_view stage_name(Stage stage) noexcept { return aprt::kKnownStageNames[static_cast<std::size_t>(stage)]; }

std::optional<Stage> parse_stage(std::string_view name) noexcept {
    const auto& names = aprt::kKnownStageNames;
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) return std::nullopt;
    return static_cast<Stage>(it - names.begin());
}

bool StageKey::operator<(const StageKey& o) const {
    const aprt::DumpFile a{std::nullopt, layer, stage, {}}, b{std::nullopt, o.layer, o.stage, {}};
    if (aprt::forward_order_less(a, b)) return true;
    if (aprt::forward_order_less(b, a)) return false;
    return std::tie(layer, stage) < std::tie(o.layer, o.stage);
}

bool StageDump::wants(Stage stage) const noexcept { return !only_ || only_->contains(stage); }

void StageDump::add(Stage stage, int layer, int position, std::span<const float> values, std::int64_t width) {
    if (!wants(stage)) return;
    const StageKey key{std::string(stage_name(stage)),
                       layer < 0 ? aprt::kWholeModelLayer : static_cast<std::uint32_t>(layer)};
    const auto w = static_cast<std::size_t>(width);
    for (std::size_t r = 0; w > 0 && r * w < values.size(); ++r) {
        const auto row = values.subspan(r * w, w);
        set(key, static_cast<std::uint32_t>(position) + static_cast<std::uint32_t>(r), {row.begin(), row.end()});
    }
}

void StageDump::set(const StageKey& key, std::uint32_t position, std::vector<float> values) {
    Series& s = series_[key];
    if (s.size() <= position) s.resize(position + 1);
    s[position] = std::move(values);
    positions_ = std::max(positions_, position + 1);
}

const StageDump::Series* StageDump::find(const StageKey& key) const {
    const auto it = series_.find(key);
    return it == series_.end() ? nullptr : &it->second;
}

namespace {

std::string pos_dir(std::uint32_t pos) {
    std::string digits = std::to_string(pos);
    if (digits.size() < 4) digits.insert(0, 4 - digits.size(), '0');
    return "pos-" + digits;
}

fs::path stage_file(const fs::path& dir, const StageKey& key) {
    const fs::path base = key.layer == aprt::kWholeModelLayer ? dir : dir / ("layer-" + std::to_string(key.layer));
    return base / (key.stage + ".bin");
}

void make_dirs(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw IoError(dir.string(), "cannot create the directory: " + ec.message());
}

}  // namespace

std::size_t StageDump::write_tree(const fs::path& dir, aprt::Layout layout) const {
    std::size_t written = 0;
    for (const auto& [key, series] : series_) {
        if (layout == aprt::Layout::Concatenated) {
            std::vector<float> all;
            for (const auto& row : series) all.insert(all.end(), row.begin(), row.end());
            if (all.empty()) continue;
            const fs::path file = stage_file(dir, key);
            make_dirs(file.parent_path());
            aprt::write_file(file, key.layer, all);
            ++written;
            continue;
        }
        for (std::uint32_t p = 0; p < series.size(); ++p) {
            if (series[p].empty()) continue;
            const fs::path file = stage_file(dir / pos_dir(p), key);
            make_dirs(file.parent_path());
            aprt::write_file(file, key.layer, series[p]);
            ++written;
        }
    }
    return written;
}

StageDump StageDump::read_tree(const fs::path& dir, std::optional<std::uint32_t> n_positions) {
    const aprt::DumpTree tree = aprt::scan_tree(dir);
    StageDump dump;
    for (const aprt::DumpFile& f : tree.files) {
        aprt::Tensor t = aprt::read_dump_file(f);
        const StageKey key{f.stage, f.layer};
        if (f.position) {
            if (n_positions && *f.position >= *n_positions) {
                throw UsageError(f.path.string() + ": position " + std::to_string(*f.position) +
                                 " is past the input's " + std::to_string(*n_positions) + " tokens");
            }
            dump.set(key, *f.position, std::move(t.values));
            continue;
        }
        const std::uint32_t n = n_positions.value_or(1);
        if (n == 0 || t.values.size() % n != 0 || t.values.empty()) {
            throw UsageError(f.path.string() + ": " + std::to_string(t.values.size()) +
                             " values do not split into the input's " + std::to_string(n) + " positions");
        }
        const std::size_t w = t.values.size() / n;
        for (std::uint32_t p = 0; p < n; ++p) {
            const auto first = t.values.begin() + static_cast<std::ptrdiff_t>(p * w);
            dump.set(key, p, std::vector<float>(first, first + static_cast<std::ptrdiff_t>(w)));
        }
    }
    if (n_positions && tree.layout == aprt::Layout::PerPosition && dump.positions() != *n_positions) {
        throw UsageError(dir.string() + ": the dump tree holds " + std::to_string(dump.positions()) +
                         " positions, the input has " + std::to_string(*n_positions) + " tokens");
    }
    return dump;
}

}  // namespace parity
