#include "save_tensor.h"

#include "engine/error.h"

namespace parity::cli {

namespace {

std::string all_stage_names() {
    std::string s;
    for (const auto name : aprt::kKnownStageNames) s += (s.empty() ? "" : ", ") + std::string(name);
    return s;
}

}  // namespace

std::set<Stage> parse_stage_list(const std::string& text) {
    std::set<Stage> out;
    if (text == "all") {
        for (int i = 0; i < kStageCount; ++i) out.insert(static_cast<Stage>(i));
        return out;
    }
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        const std::string name = text.substr(start, comma - start);
        const auto stage = parse_stage(name);
        if (!stage) {
            throw UsageError("--save-tensor: unknown stage '" + name + "' (expected all, or a comma-separated list of " +
                             all_stage_names() + ")");
        }
        out.insert(*stage);
        start = comma + 1;
    }
    return out;
}

aprt::Layout parse_layout(const std::string& text) {
    if (text == "per-position") return aprt::Layout::PerPosition;
    if (text == "concatenated") return aprt::Layout::Concatenated;
    throw UsageError("--layout: unknown layout '" + text + "' (expected per-position or concatenated)");
}

std::size_t save_stage_tensors(Session& session, std::span<const std::int32_t> tokens, ForwardMode mode,
                               const std::set<Stage>& stages, const std::filesystem::path& dir,
                               aprt::Layout layout, std::ostream& out) {
    StageDump dump(stages);
    dump_stages(session, tokens, mode, dump);
    const std::size_t files = dump.write_tree(dir, layout);
    out << "wrote " << files << " APRT files (" << dump.series().size() << " stage series, " << dump.positions()
        << " positions, " << aprt::layout_name(layout) << ") under " << dir.string() << "\n";
    return files;
}

}  // namespace parity::cli
