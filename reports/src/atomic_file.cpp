#include "reports/atomic_file.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace parity::reports {

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
    const std::filesystem::path target(path);
    std::filesystem::path temp = target;
    temp += ".tmp." + std::to_string(::getpid());
    try {
        {
            std::ofstream out(temp, std::ios::binary | std::ios::trunc);
            if (!out) throw std::runtime_error(path + ": cannot open " + temp.filename().string() + " for writing");
            write(out);
            out.flush();
            if (!out) throw std::runtime_error(path + ": write failed");
        }
        std::error_code ec;
        std::filesystem::rename(temp, target, ec);
        if (ec) throw std::runtime_error(path + ": cannot replace the file: " + ec.message());
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(temp, ignored);
        throw;
    }
}

}  // namespace parity::reports
