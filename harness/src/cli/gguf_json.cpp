#include "gguf_json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

namespace parity::cli {

nlohmann::json to_json(const gguf::Value& value) {
    return std::visit(
        [](const auto& x) -> nlohmann::json {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, gguf::Array>) {
                nlohmann::json arr = nlohmann::json::array();
                for (const auto& item : x.items) arr.push_back(to_json(item));
                return arr;
            } else if constexpr (std::is_same_v<T, float>) {
                if (!std::isfinite(x)) return nullptr;
                // Print an f32 by its shortest decimal form (1e-06, not 9.999999974752427e-07).
                char buf[32];
                const auto res = std::to_chars(buf, buf + sizeof buf, x);
                return std::strtod(std::string(buf, res.ptr).c_str(), nullptr);
            } else if constexpr (std::is_floating_point_v<T>) {
                if (!std::isfinite(x)) return nullptr;
                return x;
            } else {
                return x;
            }
        },
        value.v);
}

std::string to_text(const gguf::Value& value, std::size_t max_items) {
    if (const auto* s = value.as_string()) return nlohmann::json(*s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (const auto* a = value.as_array()) {
        std::string out = "[";
        const std::size_t shown = max_items == 0 ? a->items.size() : std::min(max_items, a->items.size());
        for (std::size_t i = 0; i < shown; ++i) {
            if (i > 0) out += ", ";
            out += to_text(a->items[i], max_items);
        }
        if (shown < a->items.size()) out += ", ... (" + std::to_string(a->items.size() - shown) + " more)";
        return out + "]";
    }
    if (const auto* b = std::get_if<bool>(&value.v)) return *b ? "true" : "false";
    return to_json(value).dump();
}

std::string to_text(const nlohmann::ordered_json& value, std::size_t max_items) {
    if (value.is_array()) {
        std::string out = "[";
        const std::size_t shown = max_items == 0 ? value.size() : std::min(max_items, value.size());
        for (std::size_t i = 0; i < shown; ++i) {
            if (i > 0) out += ", ";
            out += to_text(value[i], max_items);
        }
        if (shown < value.size()) out += ", ... (" + std::to_string(value.size() - shown) + " more)";
        return out + "]";
    }
    if (value.is_object()) {
        std::string out = "{";
        std::size_t i = 0;
        for (auto it = value.begin(); it != value.end(); ++it, ++i) {
            if (max_items != 0 && i == max_items) {
                out += ", ... (" + std::to_string(value.size() - i) + " more)";
                break;
            }
            out += (i ? ", " : "") + nlohmann::json(it.key()).dump() + ": " + to_text(it.value(), max_items);
        }
        return out + "}";
    }
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace parity::cli
